// Builders for storage objects: a StorageClass, a statically provisioned PersistentVolume and
// the claim that binds to it.
//   forPersistentVolume("data").storageClass("manual").capacity("1Gi").hostPath("/srv/data").result()
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class StorageClassBuilder extends ObjectBuilder<V1StorageClass> {
  constructor(name: string) {
    super({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name },
      // No dynamic provisioning: volumes are created by hand, as in the test clusters.
      provisioner: "kubernetes.io/no-provisioner",
    });
  }

  provisioner(provisioner: string): this {
    this.object.provisioner = provisioner;
    return this;
  }

  /** Immediate binds claims without a consumer; WaitForFirstConsumer needs a scheduler. */
  volumeBindingMode(mode: "Immediate" | "WaitForFirstConsumer"): this {
    this.object.volumeBindingMode = mode;
    return this;
  }
}

export class PersistentVolumeBuilder extends ObjectBuilder<V1PersistentVolume> {
  constructor(name: string) {
    super({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name },
      spec: {
        accessModes: ["ReadWriteOnce"],
        capacity: { storage: "1Gi" },
        persistentVolumeReclaimPolicy: "Retain",
      },
    });
  }

  storageClass(name: string): this {
    this.spec().storageClassName = name;
    return this;
  }

  capacity(quantity: string): this {
    this.spec().capacity = { storage: quantity };
    return this;
  }

  hostPath(path: string): this {
    this.spec().hostPath = { path, type: "DirectoryOrCreate" };
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("persistent volume builder lost its spec");
    return this.object.spec;
  }
}

export class PersistentVolumeClaimBuilder extends ObjectBuilder<V1PersistentVolumeClaim> {
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { namespace, name },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
  }

  storageClass(name: string): this {
    this.spec().storageClassName = name;
    return this;
  }

  request(quantity: string): this {
    this.spec().resources = { requests: { storage: quantity } };
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("persistent volume claim builder lost its spec");
    return this.object.spec;
  }
}

export const forStorageClass = (name: string) => new StorageClassBuilder(name);
export const forPersistentVolume = (name: string) => new PersistentVolumeBuilder(name);
export const forPersistentVolumeClaim = (namespace: string, name: string) =>
  new PersistentVolumeClaimBuilder(namespace, name);
