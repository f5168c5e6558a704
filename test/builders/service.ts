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

  private spec() {
    if (!this.object.spec) throw new Error("service builder lost its spec");
    return this.object.spec;
  }
}

export const forService = (namespace: string, name: string) => new ServiceBuilder(namespace, name);
