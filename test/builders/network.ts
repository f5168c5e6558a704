// Builders for traffic rules: an Ingress in front of Services, and a NetworkPolicy around Pods.
//   forIngress("shop", "web").rule("shop.example.test", "/", "web", 80).result()
import type { V1Ingress, V1NetworkPolicy, V1NetworkPolicyPeer } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class IngressBuilder extends ObjectBuilder<V1Ingress> {
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { namespace, name },
      spec: { rules: [] },
    });
  }

  className(name: string): this {
    if (this.object.spec) this.object.spec.ingressClassName = name;
    return this;
  }

  /** Sends host/path (a prefix) to a Service's port. */
  rule(host: string, path: string, service: string, port: number): this {
    const spec = this.object.spec ?? {};
    const backend = { service: { name: service, port: { number: port } } };
    spec.rules = [...(spec.rules ?? []), { host, http: { paths: [{ path, pathType: "Prefix", backend }] } }];
    this.object.spec = spec;
    return this;
  }

  tls(secretName: string, ...hosts: string[]): this {
    const spec = this.object.spec ?? {};
    spec.tls = [...(spec.tls ?? []), { secretName, hosts }];
    this.object.spec = spec;
    return this;
  }
}

export class NetworkPolicyBuilder extends ObjectBuilder<V1NetworkPolicy> {
  /** Around the Pods labelled app=<name>; with no rule added, it denies all ingress. */
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { namespace, name },
      spec: { podSelector: { matchLabels: { app: name } }, policyTypes: ["Ingress"], ingress: [] },
    });
  }

  /** Lets in TCP traffic to `port` from the peers (Pods by label, namespaces, IP blocks). */
  allowFrom(port: number, ...from: V1NetworkPolicyPeer[]): this {
    const spec = this.spec();
    // The typed client spells `from` as `_from` and maps it to its wire name.
    spec.ingress = [...(spec.ingress ?? []), { _from: from, ports: [{ protocol: "TCP", port }] }];
    return this;
  }

  /** Lets out TCP traffic to `port` of the peers. */
  allowTo(port: number, ...to: V1NetworkPolicyPeer[]): this {
    const spec = this.spec();
    if (!spec.policyTypes?.includes("Egress")) spec.policyTypes = [...(spec.policyTypes ?? []), "Egress"];
    spec.egress = [...(spec.egress ?? []), { to, ports: [{ protocol: "TCP", port }] }];
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("network policy builder lost its spec");
    return this.object.spec;
  }
}

export const forIngress = (namespace: string, name: string) => new IngressBuilder(namespace, name);
export const forNetworkPolicy = (namespace: string, name: string) =>
  new NetworkPolicyBuilder(namespace, name);
