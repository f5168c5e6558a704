// Paginated LISTs, one page in memory at a time. When a continue token expires (410: etcd
// compacted past it), the list starts again from the top; callers see the same object twice
// and keep the later copy.
import { ArcaError } from "../common/errors.js";
import { parseJson, type KubeClient } from "./client.js";
import { asKubeObject, type KubeObject } from "./object.js";
import { groupVersion, resourcePath, type ApiResource } from "./resources.js";
import { scanList, type ItemSpan, type Span } from "./json-items.js";
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

/**
 * A listed object as JSON bytes (what the server sent, with kind and apiVersion), its head
 * (apiVersion, kind, and the metadata's name, namespace and labels), and the whole object,
 * parsed only when first asked for: most items are stored without anyone reading their body.
 */
export class ListedObject {
  private parsed: KubeObject | undefined;

  constructor(
    readonly head: KubeObject,
    readonly json: Buffer,
    private readonly what: string,
    object?: KubeObject,
  ) {
    this.parsed = object;
  }

  /** One already parsed: its head is itself. */
  static whole(object: KubeObject, json: Buffer, what: string): ListedObject {
    return new ListedObject(object, json, what, object);
  }

  get object(): KubeObject {
    return (this.parsed ??= asKubeObject(parseJson(this.what, this.json), this.what));
  }
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
    const spans = scanList(res.body);
    const decoded = spans
      ? { metadata: spanJson<ListBody["metadata"]>(what, res.body, spans.metadata), items: undefined }
      : parseJson<ListBody>(what, res.body);
    token = decoded.metadata?.continue || undefined;
    if (decoded.metadata?.resourceVersion) options.onPage?.(decoded.metadata.resourceVersion);
    // The next page is on its way while the caller works through this one.
    if (token) {
      next = page(token);
      next.catch(() => {}); // its failure is seen when awaited, or not at all if the caller stops
    }
    const defaults = { apiVersion, kind: r.kind };
    yield spans
      ? spans.items.map((span, i) => fromSpans(res.body, span, defaults, `${what}: item ${i}`))
      : (decoded.items ?? []).map((raw, i) => reserialised(raw, defaults, `${what}: item ${i}`));
    if (!token) return;
  }
}

type Defaults = { apiVersion: string; kind: string };

/** An item read in place: only its head is parsed, and its bytes are stored as served. */
function fromSpans(body: Buffer, span: ItemSpan, defaults: Defaults, what: string): ListedObject {
  const labels = spanJson<Record<string, string>>(what, body, span.labels);
  const head = asKubeObject(
    {
      apiVersion: spanString(what, body, span.apiVersion) ?? defaults.apiVersion,
      kind: spanString(what, body, span.kind) ?? defaults.kind,
      metadata: {
        name: spanString(what, body, span.name),
        namespace: spanString(what, body, span.namespace),
        ...(labels ? { labels } : {}),
      },
    },
    what,
  );
  const served = body.subarray(span.item[0], span.item[1]);
  // Built-in lists leave kind and apiVersion off their items; a stored object needs them.
  const missing = [
    ...(span.apiVersion ? [] : [`"apiVersion":${JSON.stringify(head.apiVersion)}`]),
    ...(span.kind ? [] : [`"kind":${JSON.stringify(head.kind)}`]),
  ];
  if (missing.length === 0) return new ListedObject(head, served, what);
  const empty = served.length === 2; // {}
  const prefix = Buffer.from(`{${missing.join(",")}${empty ? "" : ","}`);
  return new ListedObject(head, Buffer.concat([prefix, served.subarray(1)]), what);
}

/** An item of a page the scanner could not read: parsed with the page, stored re-serialised. */
function reserialised(raw: unknown, defaults: Defaults, what: string): ListedObject {
  const item = raw as Record<string, unknown>;
  item.apiVersion ??= defaults.apiVersion;
  item.kind ??= defaults.kind;
  const object = asKubeObject(item, what);
  return ListedObject.whole(object, Buffer.from(JSON.stringify(object)), what);
}

function spanJson<T>(what: string, body: Buffer, span: Span | undefined): T | undefined {
  return span ? parseJson<T>(what, body.subarray(span[0], span[1])) : undefined;
}

/** A string member; its raw bytes unless it holds escapes. */
function spanString(what: string, body: Buffer, span: Span | undefined): string | undefined {
  if (!span || body[span[0]] !== 0x22) return spanJson<string>(what, body, span);
  const raw = body.toString("utf8", span[0] + 1, span[1] - 1);
  return raw.includes("\\") ? spanJson<string>(what, body, span) : raw;
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
  return ListedObject.whole(asKubeObject(parseJson(what, res.body), what), res.body, what);
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
