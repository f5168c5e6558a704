// Writing objects as raw JSON: create, read, and server-side apply with Arca's field manager.
// Every call can be a server-side dry run, which validates and admits without persisting.
import type { KubeClient } from "./client.js";
import type { KubeObject } from "./object.js";
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
