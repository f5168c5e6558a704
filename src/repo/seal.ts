// A blob as a pack stores it: compressed where that pays, then encrypted. Used on the calling
// thread (sealed straight into its pack) and in the blob workers; small data blobs go many at
// a time to a thread of libuv's pool (SealBatch).
import { copyInto, joinedForNow, type Bytes } from "../common/bytes.js";
import { native } from "../common/native.js";
import { compressedView, MIN_COMPRESSED, MIN_SAVING, SMALL_BLOB, SMALL_BLOB_LEVEL } from "./compression.js";
import { CRYPTO_OVERHEAD, encryptInto, packedKey, type MasterKey } from "./crypto.js";
import type { Id } from "./layout.js";

export interface SealedBlob {
  /** Bytes written: the stored length. */
  length: number;
  /** Set when the stored bytes are compressed: the blob's plain length. */
  uncompressedLength?: number;
}

/** Seals `data` into the place that `reserve` gives for its sealed length. */
export function sealBlob(
  key: MasterKey,
  bytes: Bytes,
  compression: boolean,
  reserve: (length: number) => { buffer: Uint8Array; offset: number },
): SealedBlob {
  const data = joinedForNow(bytes);
  const packed = compression ? compressedView(data) : undefined;
  const plain = packed ?? data;
  const { buffer, offset } = reserve(plain.length + CRYPTO_OVERHEAD);
  // encryptInto reads the compression scratch before anything reuses it
  const length = encryptInto(key, plain, buffer, offset);
  return packed ? { length, uncompressedLength: data.length } : { length };
}

/**
 * Small blobs (one zstd level for all) copied in one after another, then compressed and
 * sealed together on a thread of libuv's pool (native/seal-batch.c), the same way sealBlob
 * does. Copied in, not referenced: the caller's objects would otherwise outlive the trip to
 * the pool, be promoted to V8's old generation and wait there for a full collection.
 */
export class SealBatch {
  private readonly input: Buffer;
  private readonly out: Buffer;
  private readonly lengths: Uint32Array;
  private readonly results: Int32Array;
  private readonly ids: Id[] = [];
  private used = 0;

  constructor(
    readonly capacity: number,
    readonly maxBlobs: number,
  ) {
    this.input = Buffer.allocUnsafeSlow(capacity);
    this.out = Buffer.allocUnsafeSlow(capacity + maxBlobs * CRYPTO_OVERHEAD);
    this.lengths = new Uint32Array(maxBlobs);
    this.results = new Int32Array(2 * maxBlobs);
  }

  get count(): number {
    return this.ids.length;
  }

  fits(length: number): boolean {
    return length <= SMALL_BLOB && this.used + length <= this.capacity && this.count < this.maxBlobs;
  }

  /** Copies `data` in: the caller may reuse its buffer at once. */
  push(id: Id, data: Bytes): void {
    const start = this.used;
    this.used = copyInto(data, this.input, start);
    this.lengths[this.count] = this.used - start;
    this.ids.push(id);
  }

  /**
   * Seals every blob; calls `each` with each one's ID, sealed bytes (valid during the call)
   * and, if compressed, its plain length. Nothing may be pushed until the promise settles.
   */
  async seal(
    key: MasterKey,
    compression: boolean,
    each: (id: Id, sealed: Uint8Array, uncompressedLength: number | undefined) => Promise<void> | undefined,
  ): Promise<void> {
    const n = this.count;
    if (n === 0) return;
    const level = compression ? SMALL_BLOB_LEVEL : 0;
    await native.sealBatch(
      packedKey(key),
      this.input.subarray(0, this.used),
      this.lengths.subarray(0, n),
      level,
      MIN_COMPRESSED,
      1 - MIN_SAVING,
      this.out.subarray(0, this.used + n * CRYPTO_OVERHEAD),
      this.results.subarray(0, 2 * n),
    );
    for (let i = 0, at = 0; i < n; i++) {
      const [stored, plain] = [this.results[2 * i] as number, this.results[2 * i + 1] as number];
      const waiting = each(
        this.ids[i] as Id,
        this.out.subarray(at, at + stored),
        plain >= 0 ? plain : undefined,
      );
      if (waiting) await waiting; // a full pack on its way out
      at += stored;
    }
  }

  /** Empties the batch for reuse. */
  clear(): void {
    this.ids.length = 0;
    this.used = 0;
  }
}
