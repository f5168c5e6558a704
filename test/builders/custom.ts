// Builder for custom resources, served by a CRD (see crd.ts). Their spec is free-form JSON.
//   forCustomObject("demo.arca.dev/v1", "Widget", "shop", "w1").spec({ size: 3 }).result()
import type { KubernetesObject } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export interface CustomObject extends KubernetesObject {
  spec?: Record<string, unknown>;
}

export class CustomObjectBuilder extends ObjectBuilder<CustomObject> {
  constructor(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    super({ apiVersion, kind, metadata: namespace ? { namespace, name } : { name } });
  }

  spec(spec: Record<string, unknown>): this {
    this.object.spec = { ...this.object.spec, ...spec };
    return this;
  }
}

export const forCustomObject = (
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
) => new CustomObjectBuilder(apiVersion, kind, namespace, name);
