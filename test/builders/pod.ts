// Builder for bare Pods. No kubelet runs in the test clusters, so they stay Pending.
//   forPod("shop", "worker").serviceAccount("web").claim("data", "shop-data").result()
import type { V1Pod } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class PodBuilder extends ObjectBuilder<V1Pod> {
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { namespace, name },
      spec: { containers: [{ name: "main", image: "registry.invalid/arca/test:1" }] },
    });
  }

  serviceAccount(name: string): this {
    this.spec().serviceAccountName = name;
    return this;
  }

  /** Mounts a PersistentVolumeClaim as volume `volume`. */
  claim(volume: string, claimName: string): this {
    const spec = this.spec();
    spec.volumes = [...(spec.volumes ?? []), { name: volume, persistentVolumeClaim: { claimName } }];
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("pod builder lost its spec");
    return this.object.spec;
  }
}

export const forPod = (namespace: string, name: string) => new PodBuilder(namespace, name);
