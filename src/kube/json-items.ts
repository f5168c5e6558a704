// Where each item of a LIST response starts and ends in the bytes the server sent, and where
// its apiVersion, kind and metadata are: an object is stored exactly as served, and only the
// parts the backup reads are parsed. Parsing whole pages cost more than the apiserver's own
// work per item, and most of an item (data, spec) is never looked at.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** [start, end) of a JSON value in the response. */
export type Span = [number, number];

export interface ItemSpan {
  /** The item object, braces included. */
  item: Span;
  apiVersion?: Span;
  kind?: Span;
  /** Members of the item's metadata. */
  name?: Span;
  namespace?: Span;
  labels?: Span;
}

export interface ListSpans {
  /** The list's own metadata (continue token, resourceVersion). */
  metadata?: Span;
  items: ItemSpan[];
}

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The index just past the string whose opening quote is at `i`, or -1. */
function skipString(b: Buffer, i: number): number {
  for (;;) {
    const q = b.indexOf(QUOTE, i + 1);
    if (q < 0) return -1;
    let backslashes = 0;
    while (b[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q;
  }
}

/** The index just past the value that starts at `i`, or -1. */
function skipValue(b: Buffer, i: number): number {
  const first = b[i];
  if (first === QUOTE) return skipString(b, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number, true, false or null: it ends where the enclosing container goes on.
    while (i < b.length && b[i] !== COMMA && b[i] !== CLOSE_OBJECT && b[i] !== CLOSE_ARRAY && !isSpace(b[i]))
      i++;
    return i < b.length ? i : -1;
  }
  let depth = 0;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipString(b, i) - 1;
      if (i < 0) return -1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Whether the key spanning [start, end) (quotes included) is `"name"`. */
function keyIs(b: Buffer, start: number, end: number, name: Buffer): boolean {
  return end - start === name.length && b.compare(name, 0, name.length, start, end) === 0;
}

const KEYS = {
  items: Buffer.from('"items"'),
  metadata: Buffer.from('"metadata"'),
  apiVersion: Buffer.from('"apiVersion"'),
  kind: Buffer.from('"kind"'),
  name: Buffer.from('"name"'),
  namespace: Buffer.from('"namespace"'),
  labels: Buffer.from('"labels"'),
};

/**
 * Walks the members of the object whose brace is at `i`, calling `member` with each key and
 * the index of its value; `member` returns the index just past that value. Returns the index
 * just past the closing brace, or -1.
 */
function walkObject(
  b: Buffer,
  i: number,
  member: (keyStart: number, keyEnd: number, value: number) => number,
): number {
  if (b[i] !== OPEN_OBJECT) return -1;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_OBJECT) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return -1;
    i = skipSpace(b, keyEnd);
    if (b[i] !== COLON) return -1;
    i = member(keyStart, keyEnd, skipSpace(b, i + 1));
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    if (b[i] !== COMMA) return -1;
    i = skipSpace(b, i + 1);
  }
}

function metadataMember(b: Buffer, span: ItemSpan, keyStart: number, keyEnd: number, value: number): number {
  const after = skipValue(b, value);
  if (keyIs(b, keyStart, keyEnd, KEYS.name)) span.name = [value, after];
  else if (keyIs(b, keyStart, keyEnd, KEYS.namespace)) span.namespace = [value, after];
  else if (keyIs(b, keyStart, keyEnd, KEYS.labels)) span.labels = [value, after];
  return after;
}

function scanItem(b: Buffer, i: number, items: ItemSpan[]): number {
  const span: ItemSpan = { item: [i, -1] };
  const inMetadata = (k0: number, k1: number, v: number) => metadataMember(b, span, k0, k1, v);
  const end = walkObject(b, i, (keyStart, keyEnd, value) => {
    if (keyIs(b, keyStart, keyEnd, KEYS.metadata)) return walkObject(b, value, inMetadata);
    const after = skipValue(b, value);
    if (keyIs(b, keyStart, keyEnd, KEYS.apiVersion)) span.apiVersion = [value, after];
    else if (keyIs(b, keyStart, keyEnd, KEYS.kind)) span.kind = [value, after];
    return after;
  });
  span.item[1] = end;
  items.push(span);
  return end;
}

function scanItems(b: Buffer, i: number, items: ItemSpan[]): number {
  if (b[i] === 0x6e) return b.subarray(i, i + 4).toString() === "null" ? i + 4 : -1; // "items": null
  if (b[i] !== OPEN_ARRAY) return -1;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = scanItem(b, i, items);
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === CLOSE_ARRAY) return i + 1;
    if (b[i] !== COMMA) return -1;
    i = skipSpace(b, i + 1);
  }
}

/**
 * The spans of a LIST response's metadata and items, or undefined when the body is not
 * shaped as expected (the caller then parses it whole, which names what is wrong).
 */
export function scanList(b: Buffer): ListSpans | undefined {
  const spans: ListSpans = { items: [] };
  let sawItems = false;
  const end = walkObject(b, skipSpace(b, 0), (keyStart, keyEnd, value) => {
    if (keyIs(b, keyStart, keyEnd, KEYS.items)) {
      sawItems = true;
      return scanItems(b, value, spans.items);
    }
    const after = skipValue(b, value);
    if (keyIs(b, keyStart, keyEnd, KEYS.metadata)) spans.metadata = [value, after];
    return after;
  });
  if (end < 0 || !sawItems || skipSpace(b, end) !== b.length) return undefined;
  return spans;
}
