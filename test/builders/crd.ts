// Builder for CustomResourceDefinitions with a structural schema.
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

export class CrdBuilder extends ObjectBuilder<V1CustomResourceDefinition> {
  constructor(group: string, kind: string, plural = `${kind.toLowerCase()}s`) {
    super({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            // The typed client maps x_kubernetes_preserve_unknown_fields to its wire name.
            schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
          },
        ],
      },
    });
  }

  clusterScoped(): this {
    this.object.spec.scope = "Cluster";
    return this;
  }

  /** Status is written through its own subresource, as for built-in kinds. */
  statusSubresource(): this {
    for (const v of this.object.spec.versions) v.subresources = { status: {} };
    return this;
  }

  /** Serves another version too (no conversion webhook: the apiserver only relabels). */
  alsoServe(version: string): this {
    const first = this.object.spec.versions[0];
    if (first) this.object.spec.versions.push({ ...structuredClone(first), name: version, storage: false });
    return this;
  }

  schema(schema: V1JSONSchemaProps): this {
    const version = this.object.spec.versions[0];
    if (version) version.schema = { openAPIV3Schema: schema };
    return this;
  }
}

export const forCrd = (group: string, kind: string, plural?: string) => new CrdBuilder(group, kind, plural);
