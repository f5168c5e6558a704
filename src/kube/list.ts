// Paginated LISTs, one page in memory at a time. When a continue token expires (410: etcd
// compacted past it), the list starts again from the top; callers see the same object twice
// and keep the later copy.
import { ArcaError } from "../common/errors.js";
import { parseJson, type KubeClient } from "./client.js";
import { asKubeObject, type KubeObject } from "./object.js";
import { groupVersion, resourcePath, type ApiResource } from "./resources.js";
import { itemRanges } from "./json-items.js";
import { apiError } from "./transport.js";

export const DEFAULT_PAGE_SIZE = 500;
/** Restarts after expired continue tokens before giving up on one resource. */
const MAX_RELISTS = 3;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  limit?: number;
  /** Told when an expired continue token forces the list to start over. */
  onRelist?: (message: string) => void;
  /** Told the list's resourceVersion with each page: where a watch picks up. */
  onPage?: (resourceVersion: string) => void;
}

interface ListBody {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: unknown[];
}

/** A listed object, parsed, and as JSON bytes: what the server sent, with kind and apiVersion. */
export interface ListedObject {
  object: KubeObject;
  json: Buffer;
}

export async function* listObjects(
  client: KubeClient,
  r: ApiResource,
  options: ListOptions = {},
): AsyncGenerator<ListedObject[]> {
  const what = `listing ${r.resource}${r.group ? `.${r.group}` : ""} (${groupVersion(r)})${
    options.namespace ? ` in namespace ${options.namespace}` : ""
  }`;
  const apiVersion = groupVersion(r);
  const page = (token: string | undefined) => {
    const query = new URLSearchParams({ limit: String(options.limit ?? DEFAULT_PAGE_SIZE) });
    if (token) query.set("continue", token);
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    return client.request(what, { path: `${resourcePath(r, options.namespace)}?${query}` });
  };
  let token: string | undefined;
  let relists = 0;
  let next = page(undefined);
  for (;;) {
    const res = await next;
    if (res.status === 410 && token) {
      if (++relists > MAX_RELISTS)
        throw new ArcaError(`${what}: the continue token expired ${relists} times`, {
          hint: "the cluster compacts etcd faster than the list runs; retry when it is less busy",
        });
      options.onRelist?.(`${what}: the continue token expired; listing again from the start`);
      token = undefined;
      next = page(undefined);
      continue;
    }
    if (res.status !== 200) throw apiError(what, res);
    const body = parseJson<ListBody>(what, res.body);
    token = body.metadata?.continue || undefined;
    if (body.metadata?.resourceVersion) options.onPage?.(body.metadata.resourceVersion);
    // The next page is on its way while the caller works through this one.
    if (token) {
      next = page(token);
      next.catch(() => {}); // its failure is seen when awaited, or not at all if the caller stops
    }
    const parsed = body.items ?? [];
    const ranges = itemRanges(res.body);
    const exact = ranges !== undefined && ranges.length === parsed.length;
    const items = parsed.map((raw, i): ListedObject => {
      const item = raw as Record<string, unknown>;
      // Built-in lists leave kind and apiVersion off their items; a stored object needs them.
      const missing = item.apiVersion === undefined || item.kind === undefined;
      item.apiVersion ??= apiVersion;
      item.kind ??= r.kind;
      const object = asKubeObject(item, `${what}: item ${i}`);
      if (!exact) return { object, json: Buffer.from(JSON.stringify(object)) };
      const [start, end] = ranges[i] as [number, number];
      const served = res.body.subarray(start, end);
      const json = missing
        ? Buffer.concat([
            Buffer.from(`{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(r.kind)},`),
            served.subarray(1),
          ])
        : served;
      return { object, json };
    });
    yield items;
    if (!token) return;
  }
}

/** One object by name, parsed and as served; undefined when it does not exist. */
export async function readObject(
  client: KubeClient,
  r: ApiResource,
  name: string,
  namespace?: string,
): Promise<ListedObject | undefined> {
  const what = `reading ${r.kind} ${namespace ? `${namespace}/` : ""}${name}`;
  const res = await client.request(what, { path: resourcePath(r, namespace, name) });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw apiError(what, res);
  return { object: asKubeObject(parseJson(what, res.body), what), json: res.body };
}

/** One object by name; undefined when it does not exist. */
export async function getObject(
  client: KubeClient,
  r: ApiResource,
  name: string,
  namespace?: string,
): Promise<KubeObject | undefined> {
  return (await readObject(client, r, name, namespace))?.object;
}
