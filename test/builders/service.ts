// Builders for Services: a ClusterIP Service in front of the Pods that carry its selector, and
// the Endpoints and EndpointSlices a user writes for a Service without one.
//   forService("shop", "web").selector({ app: "web" }).port(80, 8080).result()
//   forService("shop", "db").withoutSelector().port(5432).result()
//   forEndpoints("shop", "db").address("192.0.2.10").port(5432).result()
import type { V1EndpointSlice, V1Endpoints, V1Service } from "@kubernetes/client-node";
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

  /** The node port of the port entry added for `port`: chosen, not left to the allocator. */
  nodePort(port: number, nodePort: number): this {
    const entry = this.spec().ports?.find((p) => p.port === port);
    if (!entry) throw new Error(`service builder: add port ${port} before its node port`);
    entry.nodePort = nodePort;
    return this;
  }

  /** No Pods behind it: the user writes its Endpoints (an external database, say). */
  withoutSelector(): this {
    delete this.spec().selector;
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

/** Endpoints of the Service of the same name: one subset, its addresses and ports. */
export class EndpointsBuilder extends ObjectBuilder<V1Endpoints> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: "v1", kind: "Endpoints", metadata: { namespace, name }, subsets: [{}] });
  }

  address(ip: string): this {
    const subset = this.subset();
    subset.addresses = [...(subset.addresses ?? []), { ip }];
    return this;
  }

  port(port: number, name = `tcp-${port}`): this {
    const subset = this.subset();
    subset.ports = [...(subset.ports ?? []), { name, port, protocol: "TCP" }];
    return this;
  }

  private subset() {
    const subset = this.object.subsets?.[0];
    if (!subset) throw new Error("endpoints builder lost its subset");
    return subset;
  }
}

/** An IPv4 EndpointSlice of a Service, as a user or a tool outside the cluster writes one. */
export class EndpointSliceBuilder extends ObjectBuilder<V1EndpointSlice> {
  constructor(namespace: string, name: string, service: string) {
    super({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { namespace, name, labels: { "kubernetes.io/service-name": service } },
      addressType: "IPv4",
      endpoints: [],
      ports: [],
    });
  }

  address(ip: string): this {
    this.object.endpoints = [...this.object.endpoints, { addresses: [ip] }];
    return this;
  }

  port(port: number, name = `tcp-${port}`): this {
    this.object.ports = [...(this.object.ports ?? []), { name, port, protocol: "TCP" }];
    return this;
  }
}

export const forService = (namespace: string, name: string) => new ServiceBuilder(namespace, name);
export const forEndpoints = (namespace: string, name: string) => new EndpointsBuilder(namespace, name);
export const forEndpointSlice = (namespace: string, name: string, service: string) =>
  new EndpointSliceBuilder(namespace, name, service);
