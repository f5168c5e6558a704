// Builder for bare Pods. On a cluster without a node they stay Pending; on one with a node
// (startCluster({ node: true })) a Pod that runs a local image starts:
//   forPod("shop", "worker").serviceAccount("web").claim("data", "shop-data").result()
//   forPod("shop", "db").runs(image, "sh", "-c", "sleep 1d").claim("data", "db").mount("data", "/data")
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

  /** Runs `command` in a local image (there is no registry: imagePullPolicy Never). */
  runs(image: string, ...command: string[]): this {
    const main = this.main();
    main.image = image;
    main.imagePullPolicy = "Never";
    main.command = command;
    // Test workloads sleep; they need not wait out the default 30 s grace on deletion.
    this.spec().terminationGracePeriodSeconds = 1;
    return this;
  }

  /** Mounts volume `volume` at `path` in the main container. */
  mount(volume: string, path: string): this {
    const main = this.main();
    main.volumeMounts = [...(main.volumeMounts ?? []), { name: volume, mountPath: path }];
    return this;
  }

  /** A host folder as volume `volume` (made if missing). */
  hostPath(volume: string, path: string): this {
    const spec = this.spec();
    spec.volumes = [...(spec.volumes ?? []), { name: volume, hostPath: { path, type: "DirectoryOrCreate" } }];
    return this;
  }

  private main() {
    const main = this.spec().containers[0];
    if (!main) throw new Error("pod builder lost its container");
    return main;
  }

  private spec() {
    if (!this.object.spec) throw new Error("pod builder lost its spec");
    return this.object.spec;
  }
}

export const forPod = (namespace: string, name: string) => new PodBuilder(namespace, name);
