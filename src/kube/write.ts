// Writing objects as raw JSON: create, read, and server-side apply with Arca's field manager.
// Every call can be a server-side dry run, which validates and admits without persisting.
import { parseJson, type KubeClient } from "./client.js";
import { asKubeObject, type KubeObject } from "./object.js";
import { resourcePath, type ApiResource } from "./resources.js";
import { apiError, type KubeApiError } from "./transport.js";

export const FIELD_MANAGER = "arca";

/** Whether the write took; the server's copy is not parsed (nothing needs it, and it costs). */
export type WriteResult = { ok: true } | { ok: false; error: KubeApiError };

const query = (dryRun: boolean, extra: Record<string, string> = {}) => {
  const q = new URLSearchParams({ fieldManager: FIELD_MANAGER, ...extra });
  if (dryRun) q.set("dryRun", "All");
  return q.toString();
};

function describe(verb: string, r: ApiResource, o: { metadata: { name: string; namespace?: string } }) {
  return `${verb} ${r.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** POSTs the object; the answer (201 or an error Status) is returned, never thrown. */
export async function createObject(
  client: KubeClient,
  r: ApiResource,
  object: KubeObject,
  { dryRun = false } = {},
): Promise<WriteResult> {
  const what = describe("creating", r, object);
  const res = await client.request(what, {
    method: "POST",
    path: `${resourcePath(r, object.metadata.namespace)}?${query(dryRun)}`,
    body: JSON.stringify(object),
  });
  if (res.status === 200 || res.status === 201 || res.status === 202) return { ok: true };
  return { ok: false, error: apiError(what, res) };
}

/** Server-side apply, taking the fields over from other managers (force). */
export async function applyObject(
  client: KubeClient,
  r: ApiResource,
  object: KubeObject,
  { dryRun = false } = {},
): Promise<WriteResult> {
  const what = describe("applying", r, object);
  const res = await client.request(what, {
    method: "PATCH",
    path: `${resourcePath(r, object.metadata.namespace, object.metadata.name)}?${query(dryRun, { force: "true" })}`,
    // JSON is YAML: the apply content type takes either.
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(object),
  });
  if (res.status === 200 || res.status === 201) return { ok: true };
  return { ok: false, error: apiError(what, res) };
}

/** Sets status through the status subresource, where the main resource ignores it. */
export async function patchStatus(
  client: KubeClient,
  r: ApiResource,
  object: KubeObject,
  status: unknown,
): Promise<WriteResult> {
  const what = describe("restoring the status of", r, object);
  const res = await client.request(what, {
    method: "PATCH",
    path: `${resourcePath(r, object.metadata.namespace, object.metadata.name)}/status?${query(false)}`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify({ status }),
  });
  if (res.status === 200) return { ok: true };
  return { ok: false, error: apiError(what, res) };
}

/** A JSON merge patch of the object, or of its status subresource; the server's copy back. */
export async function mergePatch(
  client: KubeClient,
  r: ApiResource,
  target: { name: string; namespace?: string },
  patch: unknown,
  { subresource }: { subresource?: "status" } = {},
): Promise<KubeObject> {
  const what = `${subresource ? "updating the status of" : "patching"} ${r.kind} ${
    target.namespace ? `${target.namespace}/` : ""
  }${target.name}`;
  const res = await client.request(what, {
    method: "PATCH",
    path: `${resourcePath(r, target.namespace, target.name)}${subresource ? `/${subresource}` : ""}?${query(false)}`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw apiError(what, res);
  return asKubeObject(parseJson(what, res.body), what);
}

/** Deletes the object; false when it was already gone. */
export async function deleteObject(
  client: KubeClient,
  r: ApiResource,
  target: { name: string; namespace?: string },
): Promise<boolean> {
  const what = `deleting ${r.kind} ${target.namespace ? `${target.namespace}/` : ""}${target.name}`;
  const res = await client.request(what, {
    method: "DELETE",
    path: `${resourcePath(r, target.namespace, target.name)}?propagationPolicy=Background`,
  });
  if (res.status === 404) return false;
  if (res.status !== 200 && res.status !== 202) throw apiError(what, res);
  return true;
}
