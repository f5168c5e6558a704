// FastCDC content-defined chunking (Xia et al., 2016) with normalised chunking: a gear hash,
// a stricter mask before the average size and a looser one after it, and no hashing at all
// in the first `min` bytes of a chunk. Sizes: min 512 KiB, average 1 MiB, max 8 MiB.
//
// The gear table is derived from the repository's secret chunker polynomial, so chunk
// boundaries (and so chunk sizes) say nothing about content to someone without the key,
// as with restic's per-repository Rabin polynomial.
import { createHash } from "node:crypto";
import { native } from "../common/native.js";

export interface ChunkerSizes {
  min: number;
  avg: number;
  max: number;
}

export const DEFAULT_SIZES: ChunkerSizes = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024 };

/** The top `bits` bits of a 32-bit word: those depend on the most recent 32 bytes. */
function topMask(bits: number): number {
  return bits >= 32 ? 0xffffffff : ((0xffffffff << (32 - bits)) >>> 0) | 0;
}

export class FastCdc {
  private readonly gear: Int32Array;
  private readonly maskS: number;
  private readonly maskL: number;

  constructor(
    seed: string,
    readonly sizes: ChunkerSizes = DEFAULT_SIZES,
  ) {
    if (!(sizes.min > 0 && sizes.min <= sizes.avg && sizes.avg <= sizes.max)) {
      throw new Error(`invalid chunk sizes min=${sizes.min} avg=${sizes.avg} max=${sizes.max}`);
    }
    this.gear = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      this.gear[i] = createHash("sha256").update(`arca-fastcdc:${seed}:${i}`).digest().readInt32LE(0);
    }
    const bits = Math.round(Math.log2(sizes.avg));
    // Normalisation level 2.
    this.maskS = topMask(bits + 2);
    this.maskL = topMask(bits - 2);
  }

  /**
   * The length of the chunk that starts at `data[start]`, looking at no more than
   * `data[start..end)`. When `end` is not the end of the input (`final` false), a result equal
   * to the available length means "need more data"; callers keep at least `max` bytes.
   */
  cut(data: Uint8Array, start: number, end: number): number {
    const available = end - start;
    const { min, avg, max } = this.sizes;
    if (available <= min) return available;
    const limit = Math.min(available, max);
    const normal = Math.min(limit, avg);
    // Offsets into `data`: the scan hashes from `min` bytes into the chunk.
    return (
      native.fastcdcScan(
        this.gear,
        data,
        start + min,
        start + normal,
        start + limit,
        this.maskS,
        this.maskL,
      ) - start
    );
  }
}
