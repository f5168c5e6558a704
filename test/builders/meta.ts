// Shared part of the object builders: name, namespace, labels, annotations.
import type { V1ObjectMeta } from "@kubernetes/client-node";

export abstract class ObjectBuilder<T extends { metadata?: V1ObjectMeta }> {
  protected constructor(protected readonly object: T) {}

  labels(labels: Record<string, string>): this {
    this.meta().labels = { ...this.meta().labels, ...labels };
    return this;
  }

  annotations(annotations: Record<string, string>): this {
    this.meta().annotations = { ...this.meta().annotations, ...annotations };
    return this;
  }

  /** A deep copy, so one builder can make several distinct objects. */
  result(): T {
    return structuredClone(this.object);
  }

  private meta(): V1ObjectMeta {
    this.object.metadata ??= {};
    return this.object.metadata;
  }
}
