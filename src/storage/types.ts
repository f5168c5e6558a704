// The ObjectStore interface: what the repository needs from a backup location, and nothing
// more. Keys are '/'-separated paths relative to the location's prefix.
import type { Readable } from "node:stream";

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Range {
  offset: number;
  /** Bytes to read from offset; to the end of the object when absent. */
  length?: number;
}

export interface GetOptions extends CallOptions {
  range?: Range;
}

export type PutBody = Buffer | Uint8Array | Readable;

export interface PutOptions extends CallOptions {
  /** Size of a stream body, when known; lets drivers choose single-part uploads. */
  size?: number;
}

export interface ObjectStore {
  /** The location, with any secret removed, for messages. */
  readonly location: string;
  /** Whether `create` is atomic on this backend (the object is never overwritten). */
  readonly atomicCreate: boolean;

  put(key: string, body: PutBody, options?: PutOptions): Promise<void>;
  /**
   * Writes the object only if no object has the key. Resolves false when one exists (and it
   * is left untouched). Backends without a conditional write check first, which leaves a race.
   */
  create(key: string, body: Buffer, options?: CallOptions): Promise<boolean>;
  get(key: string, options?: GetOptions): Promise<Buffer>;
  getStream(key: string, options?: GetOptions): Promise<Readable>;
  /** The object's size, or undefined when it does not exist. */
  head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix, in lexicographic order, page by page. */
  list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string, options?: CallOptions): Promise<void>;
  /** Releases connections. */
  close(): void;
  /** Makes the location's root where it has one to make (a file store's directory), for `repo init`. */
  createRoot?(options?: CallOptions): Promise<void>;
  /**
   * Removes the partial objects of writers that stopped half way (a file store's temp files):
   * those not written to for `olderThanMs`, and sooner those whose writer, a process on this
   * host, is gone. Only for a caller that holds the repository exclusively.
   */
  removeLeftovers?(options: LeftoverOptions): Promise<ObjectInfo[]>;
}

export interface LeftoverOptions extends CallOptions {
  olderThanMs: number;
}
