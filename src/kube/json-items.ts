// Where each item of a LIST response starts and ends in the bytes the server sent, and where
// its apiVersion, kind and metadata name, namespace and labels are: an object is stored exactly
// as served, and only the parts the backup reads are parsed. The scan is native
// (native/json-items.c): parsing whole pages, or walking them in JavaScript, cost as much CPU
// as the API server spent serving them, and most of an item (data, spec) is never looked at.
import { native } from "../common/native.js";

/** [start, end) of a JSON value in the response. */
export type Span = [number, number];

export interface ListSpans {
  /** The list's own metadata (continue token, resourceVersion). */
  metadata?: Span;
  items: ItemSpans;
}

const WIDTH = 12;
const HEADER = 3;
/** Where each field's [start, end) sits within an item's ints (native/json-items.c). */
const OFFSET = { item: 0, apiVersion: 2, kind: 4, name: 6, namespace: 8, labels: 10 } as const;
export type Field = keyof typeof OFFSET;

/** The items' spans, read in place from the scanner's flat array. */
export class ItemSpans {
  constructor(private readonly flat: Int32Array) {}

  get length(): number {
    return this.flat[2] as number;
  }

  /** Where field `f` of item `i` starts; -1 when the item lacks it. */
  start(i: number, f: Field): number {
    return this.flat[HEADER + i * WIDTH + OFFSET[f]] as number;
  }

  end(i: number, f: Field): number {
    return this.flat[HEADER + i * WIDTH + OFFSET[f] + 1] as number;
  }
}

/**
 * The spans of a LIST response's metadata and items, or undefined when the body is not
 * shaped as expected (the caller then parses it whole, which names what is wrong).
 */
export function scanList(b: Uint8Array): ListSpans | undefined {
  const flat = native.scanList(b);
  if (!flat) return undefined;
  const meta = flat[0] as number;
  return { ...(meta >= 0 ? { metadata: [meta, flat[1] as number] } : {}), items: new ItemSpans(flat) };
}
