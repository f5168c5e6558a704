// Arca's own objects in one namespace, read and written as their types: everything read from
// the server is checked against its schema before anyone trusts it.
import type { Static } from "@sinclair/typebox";
import { ArcaError } from "../common/errors.js";
import type { KubeClient } from "../kube/client.js";
import { getObject, listObjects } from "../kube/list.js";
import type { KubeObject } from "../kube/object.js";
import { createObject, deleteObject, mergePatch } from "../kube/write.js";
import { apiResource, KINDS, type KindName } from "./kinds.js";
import { API_VERSION } from "./names.js";
import { checkValue } from "./schema.js";

export type ObjectOf<K extends KindName> = Static<(typeof KINDS)[K]["schema"]>;

export class ArcaObjects {
  constructor(
    readonly client: KubeClient,
    readonly namespace: string,
  ) {}

  /** Checks an object from the server; a malformed one is an error that names it. */
  parse<K extends KindName>(kind: K, object: unknown): ObjectOf<K> {
    const name = (object as KubeObject | undefined)?.metadata?.name ?? "(unnamed)";
    checkValue(KINDS[kind].schema, object, `${kind} ${this.namespace}/${name}`);
    return object as ObjectOf<K>;
  }

  async get<K extends KindName>(kind: K, name: string): Promise<ObjectOf<K> | undefined> {
    const o = await getObject(this.client, apiResource(kind), name, this.namespace);
    return o && this.parse(kind, o);
  }

  async list<K extends KindName>(kind: K, labelSelector?: string): Promise<ObjectOf<K>[]> {
    const out: ObjectOf<K>[] = [];
    for await (const page of listObjects(this.client, apiResource(kind), {
      namespace: this.namespace,
      labelSelector,
      parseWhole: true, // every object is parsed here, and the CLI then needs no native addon
    }))
      for (const { object } of page) out.push(this.parse(kind, object));
    return out;
  }

  async create<K extends KindName>(
    kind: K,
    name: string,
    spec: ObjectOf<K>["spec"],
    labels: Record<string, string> = {},
    annotations: Record<string, string> = {},
  ): Promise<void> {
    const object = {
      apiVersion: API_VERSION,
      kind,
      metadata: { name, namespace: this.namespace, labels, annotations },
      spec,
    };
    const result = await createObject(this.client, apiResource(kind), object as KubeObject);
    if (!result.ok) {
      const e = result.error;
      if (e.status === 409)
        throw new ArcaError(`a ${kind} named ${name} already exists in namespace ${this.namespace}`, {
          hint: "choose another name",
        });
      throw e;
    }
  }

  /** Merges `status` into the status subresource; returns the object as it is now. */
  async setStatus<K extends KindName>(
    kind: K,
    name: string,
    status: ObjectOf<K>["status"],
  ): Promise<ObjectOf<K>> {
    const o = await mergePatch(
      this.client,
      apiResource(kind),
      { name, namespace: this.namespace },
      { status },
      {
        subresource: "status",
      },
    );
    return this.parse(kind, o);
  }

  async patch<K extends KindName>(kind: K, name: string, patch: object): Promise<ObjectOf<K>> {
    const o = await mergePatch(this.client, apiResource(kind), { name, namespace: this.namespace }, patch);
    return this.parse(kind, o);
  }

  delete(kind: KindName, name: string): Promise<boolean> {
    return deleteObject(this.client, apiResource(kind), { name, namespace: this.namespace });
  }
}
