// Paginated LISTs, one page in memory at a time. When a continue token expires (410: etcd
// compacted past it), the list starts again from the top; callers see the same object twice
// and keep the later copy.
import { joined } from "../common/bytes.js";
import { ArcaError } from "../common/errors.js";
import { parseJson, type KubeClient } from "./client.js";
import { asKubeObject, type KubeObject } from "./object.js";
import { groupVersion, resourcePath, type ApiResource } from "./resources.js";
import { scanList, type Field, type ItemSpans } from "./json-items.js";
import { apiError, BodyBuffer } from "./transport.js";

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
  /**
   * Pages are read into two buffers taken in turn, so a page's items (their bytes, their
   * labels) are valid only until the next page is asked for: a caller that keeps an item
   * longer must copy it, or not set this.
   */
  reuseBuffers?: boolean;
  /**
   * Parse each page whole rather than scan it in place (native/json-items.c): for callers that
   * read every object anyway, such as the CLI's listing of Arca's own kinds, which then needs
   * no native addon.
   */
  parseWhole?: boolean;
}

interface ListBody {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: unknown[];
}

/** Where an item's labels sit in its page, to be parsed if someone asks for them. */
type LabelSpan = { page: Buffer; start: number; end: number };

/**
 * A listed object: its JSON as stored (what the server sent, behind a prefix with kind and
 * apiVersion when the list left them off), its head (apiVersion, kind, and the metadata's name
 * and namespace), its labels, and the whole object. Labels and the object are parsed only when
 * first asked for: most items are stored without anyone reading them (parsing every item's
 * labels was 3% of a backup's CPU, for a label selector that is rarely given).
 */
export class ListedObject {
  private parsed: KubeObject | undefined;

  constructor(
    /** Its `metadata` holds name and namespace only; see `labels`, and `object` for the rest. */
    readonly head: KubeObject,
    /** The JSON in pieces (a prefix, the bytes as served): hashed and stored as if joined. */
    readonly bytes: readonly Uint8Array[],
    /** What was read (a list, a GET), for errors; with `index`, the item of a list. */
    private readonly what: string,
    private readonly index: number | undefined,
    private readonly labelSpan?: LabelSpan,
  ) {}

  /** One already parsed: its head is itself. */
  static whole(object: KubeObject, json: Buffer, what: string): ListedObject {
    const listed = new ListedObject(object, [json], what, undefined);
    listed.parsed = object;
    return listed;
  }

  private get where(): string {
    return this.index === undefined ? this.what : itemWhat(this.what, this.index);
  }

  /** Parsed at each call: the filters ask once. */
  get labels(): Record<string, string> | undefined {
    if (this.parsed) return this.parsed.metadata.labels;
    const span = this.labelSpan;
    if (!span) return undefined;
    return parseJson<Record<string, string>>(this.where, span.page.subarray(span.start, span.end));
  }

  get object(): KubeObject {
    if (!this.parsed) {
      const json = joined(this.bytes);
      const view = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
      this.parsed = asKubeObject(parseJson(this.where, view), this.where);
    }
    return this.parsed;
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
  // The page being read and the one the caller works on.
  const buffers = options.reuseBuffers ? [new BodyBuffer(), new BodyBuffer()] : undefined;
  let turn = 0;
  const page = (token: string | undefined) => {
    const query = new URLSearchParams({ limit: String(options.limit ?? DEFAULT_PAGE_SIZE) });
    if (token) query.set("continue", token);
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    return client.request(what, {
      path: `${resourcePath(r, options.namespace)}?${query}`,
      into: buffers?.[turn++ % 2],
    });
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
    const spans = options.parseWhole ? undefined : scanList(res.body);
    const decoded = spans
      ? {
          metadata: spans.metadata
            ? parseJson<ListBody["metadata"]>(what, res.body.subarray(...spans.metadata))
            : undefined,
          items: undefined,
        }
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
      ? readInPlace(res.body, spans.items, defaults, what)
      : (decoded.items ?? []).map((raw, i) => reserialised(raw, defaults, `${what}: item ${i}`));
    if (!token) return;
  }
}

type Defaults = { apiVersion: string; kind: string };

/**
 * A page's items read in place: only their heads are parsed, and their bytes are stored as
 * served. Built-in lists leave kind and apiVersion off their items; a stored object needs
 * them, so those items get a prefix that supplies them, one per shape of item. Copying each
 * item behind its prefix held a second copy of every page in memory.
 */
function readInPlace(body: Buffer, items: ItemSpans, defaults: Defaults, what: string): ListedObject[] {
  // One prefix per shape of item (which of apiVersion and kind it lacks, and whether it is {}).
  const prefixes = new Map<number, Buffer | undefined>();
  const prefixOf = (i: number): Buffer | undefined => {
    const [start, end] = [items.start(i, "item"), items.end(i, "item")];
    const lacksVersion = items.start(i, "apiVersion") < 0;
    const lacksKind = items.start(i, "kind") < 0;
    const empty = end - start < 16 && /^\{\s*\}$/.test(body.toString("latin1", start, end));
    const shape = (lacksVersion ? 1 : 0) | (lacksKind ? 2 : 0) | (empty ? 4 : 0);
    if (prefixes.has(shape)) return prefixes.get(shape);
    const missing = [
      ...(lacksVersion ? [`"apiVersion":${JSON.stringify(defaults.apiVersion)}`] : []),
      ...(lacksKind ? [`"kind":${JSON.stringify(defaults.kind)}`] : []),
    ];
    const prefix = missing.length > 0 ? Buffer.from(`{${missing.join(",")}${empty ? "" : ","}`) : undefined;
    prefixes.set(shape, prefix);
    return prefix;
  };
  const out: ListedObject[] = [];
  // Nothing here builds a string or a closure per item unless the item is malformed: a
  // backup reads 100,000 of them.
  for (let i = 0; i < items.length; i++) {
    const name = spanString(body, items, i, "name", what);
    const namespace = spanString(body, items, i, "namespace", what);
    const apiVersion = spanString(body, items, i, "apiVersion", what) ?? defaults.apiVersion;
    const kind = spanString(body, items, i, "kind", what) ?? defaults.kind;
    const head = { apiVersion, kind, metadata: { name: name as string, namespace } };
    if (typeof name !== "string" || typeof apiVersion !== "string" || typeof kind !== "string")
      asKubeObject(head, itemWhat(what, i)); // throws, naming the item
    const labels = items.start(i, "labels");
    const [start, end] = [items.start(i, "item"), items.end(i, "item")];
    const prefix = prefixOf(i);
    // The prefix opens the object, so the item's own "{" is left out behind it.
    out.push(
      new ListedObject(
        head,
        prefix ? [prefix, body.subarray(start + 1, end)] : [body.subarray(start, end)],
        what,
        i,
        labels >= 0 ? { page: body, start: labels, end: items.end(i, "labels") } : undefined,
      ),
    );
  }
  return out;
}

const itemWhat = (what: string, i: number) => `${what}: item ${i}`;

/** An item of a page the scanner could not read: parsed with the page, stored re-serialised. */
function reserialised(raw: unknown, defaults: Defaults, what: string): ListedObject {
  const item = raw as Record<string, unknown>;
  item.apiVersion ??= defaults.apiVersion;
  item.kind ??= defaults.kind;
  const object = asKubeObject(item, what);
  return ListedObject.whole(object, Buffer.from(JSON.stringify(object)), what);
}

/** A string member of item `i`; its raw bytes unless it holds escapes (or is not a string: parsed). */
function spanString(body: Buffer, items: ItemSpans, i: number, f: Field, what: string): string | undefined {
  const [start, end] = [items.start(i, f), items.end(i, f)];
  if (start < 0) return undefined;
  if (body[start] !== 0x22) return parseJson<string>(itemWhat(what, i), body.subarray(start, end));
  const raw = body.toString("utf8", start + 1, end - 1);
  return raw.includes("\\") ? parseJson<string>(itemWhat(what, i), body.subarray(start, end)) : raw;
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
