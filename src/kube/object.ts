// Kubernetes objects as raw JSON: only the metadata the engines read is typed, and everything
// else rides along untouched.
import { ArcaError } from "../common/errors.js";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  resourceVersion?: string;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Checks what a server or a file handed us before the engines trust its shape. */
export function asKubeObject(value: unknown, where: string): KubeObject {
  const o = value as Partial<KubeObject> | null;
  if (
    typeof o !== "object" ||
    o === null ||
    typeof o.metadata !== "object" ||
    o.metadata === null ||
    typeof o.metadata.name !== "string" ||
    typeof o.apiVersion !== "string" ||
    typeof o.kind !== "string"
  ) {
    throw new ArcaError(
      `${where}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`,
    );
  }
  return o as KubeObject;
}

export const objectName = (o: KubeObject): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
