// Builders for core and apps objects, in the manner of Velero's pkg/builder:
//   forConfigMap("shop", "settings").data({ mode: "fast" }).result()
import type { V1ConfigMap, V1Deployment, V1Namespace, V1Secret } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class NamespaceBuilder extends ObjectBuilder<V1Namespace> {
  constructor(name: string) {
    super({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
}

export class ConfigMapBuilder extends ObjectBuilder<V1ConfigMap> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace, name } });
  }

  data(data: Record<string, string>): this {
    this.object.data = { ...this.object.data, ...data };
    return this;
  }
}

export class SecretBuilder extends ObjectBuilder<V1Secret> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: "v1", kind: "Secret", metadata: { namespace, name }, type: "Opaque" });
  }

  stringData(data: Record<string, string>): this {
    this.object.stringData = { ...this.object.stringData, ...data };
    return this;
  }
}

export class DeploymentBuilder extends ObjectBuilder<V1Deployment> {
  constructor(namespace: string, name: string) {
    const labels = { app: name };
    super({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { namespace, name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "main", image: "registry.invalid/arca/test:1" }] },
        },
      },
    });
  }

  replicas(n: number): this {
    this.spec().replicas = n;
    return this;
  }

  image(image: string): this {
    const container = this.spec().template.spec?.containers[0];
    if (container) container.image = image;
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("deployment builder lost its spec");
    return this.object.spec;
  }
}

export const forNamespace = (name: string) => new NamespaceBuilder(name);
export const forConfigMap = (namespace: string, name: string) => new ConfigMapBuilder(namespace, name);
export const forSecret = (namespace: string, name: string) => new SecretBuilder(namespace, name);
export const forDeployment = (namespace: string, name: string) => new DeploymentBuilder(namespace, name);
