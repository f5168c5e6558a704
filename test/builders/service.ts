// Builder for Services: a ClusterIP Service in front of the Pods that carry its selector.
//   forService("shop", "web").selector({ app: "web" }).port(80, 8080).result()
import type { V1Service } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class ServiceBuilder extends ObjectBuilder<V1Service> {
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "v1",
      kind: "Service",
      metadata: { namespace, name },
      spec: { selector: { app: name }, ports: [] },
    });
  }

  selector(labels: Record<string, string>): this {
    this.spec().selector = labels;
    return this;
  }

  port(port: number, targetPort = port, name = `tcp-${port}`): this {
    const spec = this.spec();
    spec.ports = [...(spec.ports ?? []), { name, port, targetPort, protocol: "TCP" }];
    return this;
  }

  /** ClusterIP (the default), NodePort or LoadBalancer; see headless() and externalName(). */
  type(type: "ClusterIP" | "NodePort" | "LoadBalancer"): this {
    this.spec().type = type;
    return this;
  }

  /** clusterIP None: DNS names the Pods themselves, as a StatefulSet's governing Service. */
  headless(): this {
    this.spec().clusterIP = "None";
    return this;
  }

  /** A DNS alias for `host`: no selector, no ports needed, no address allocated. */
  externalName(host: string): this {
    const spec = this.spec();
    delete spec.selector;
    spec.type = "ExternalName";
    spec.externalName = host;
    return this;
  }

  /** Local keeps client addresses; on a LoadBalancer it allocates a healthCheckNodePort. */
  externalTrafficPolicy(policy: "Cluster" | "Local"): this {
    this.spec().externalTrafficPolicy = policy;
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("service builder lost its spec");
    return this.object.spec;
  }
}

export const forService = (namespace: string, name: string) => new ServiceBuilder(namespace, name);
