// zstd, as repository format v2 uses it: per blob, and kept only where it pays.
import { createRequire } from "node:module";
import type * as Zstd from "zstd-napi";
import type * as Binding from "zstd-napi/binding.js";
import { ArcaError, messageOf } from "../common/errors.js";

/** zstd's level 3, the same "default" speed/ratio point restic's auto mode uses. */
export const COMPRESSION_LEVEL = 3;
/**
 * Blobs up to 16 KiB (Kubernetes objects, small files) get level 1. On the objects of
 * `bench:resources` it took 30-40% less CPU than level 3 and stored 1-3% more bytes.
 */
export const SMALL_BLOB = 16 * 1024;
export const SMALL_BLOB_LEVEL = 1;
/** A blob is stored compressed only if that saves at least this fraction. */
export const MIN_SAVING = 0.03;
/** Below this size a blob is stored as given. */
export const MIN_COMPRESSED = 64;
const SAMPLE = 64 * 1024;

// Loaded at the first blob, not with the CLI (start-up is on a backup's critical path). The
// binding itself compresses: the Compressor wrapper allocates and copies an output per call,
// which costs as much as compressing a 2 KiB object.
const require = createRequire(import.meta.url);
let lowLevel: typeof Binding | undefined;
let highLevel: typeof Zstd | undefined;
const binding = () => (lowLevel ??= require("zstd-napi/binding") as typeof Binding);
const zstdDecompress = (data: Uint8Array) =>
  (highLevel ??= require("zstd-napi") as typeof Zstd).decompress(data);
const contexts = new Map<number, Binding.CCtx>();
let scratch = Buffer.alloc(0);

function context(level: number): Binding.CCtx {
  let cctx = contexts.get(level);
  if (!cctx) {
    const { CCtx, CParameter } = binding();
    contexts.set(level, (cctx = new CCtx()));
    cctx.setParameter(CParameter.compressionLevel, level);
  }
  return cctx;
}

/** The largest chunk (8 MiB) fits; anything larger (a big index file) gets a buffer of its
 * own rather than a scratch that stays that large. */
const SCRATCH_MAX = 9 * 1024 * 1024;

/** `data` compressed into this thread's scratch buffer: valid until the next call. */
function zstdScratch(data: Uint8Array): Buffer {
  const cctx = context(data.length <= SMALL_BLOB ? SMALL_BLOB_LEVEL : COMPRESSION_LEVEL);
  const bound = binding().compressBound(data.length);
  let out = scratch;
  if (bound > SCRATCH_MAX) out = Buffer.allocUnsafeSlow(bound);
  else if (scratch.length < bound) out = scratch = Buffer.allocUnsafeSlow(Math.max(bound, 64 * 1024));
  return out.subarray(0, cctx.compress2(out, data));
}

/**
 * The compressed form of `data`, or undefined when compression does not pay. It lives in a
 * scratch buffer that the next call reuses: use it (seal it) before compressing again. Large
 * inputs are first judged by a sample, so incompressible data (media, archives) costs little.
 */
export function compressedView(data: Uint8Array): Buffer | undefined {
  if (data.length < MIN_COMPRESSED) return undefined;
  if (data.length > 4 * SAMPLE) {
    const sample = data.subarray(0, SAMPLE);
    if (zstdScratch(sample).length > sample.length * (1 - MIN_SAVING)) return undefined;
  }
  const packed = zstdScratch(data);
  return packed.length <= data.length * (1 - MIN_SAVING) ? packed : undefined;
}

/** Always compresses (metadata files: small JSON, compressible). */
export function compress(data: Uint8Array): Buffer {
  return Buffer.from(zstdScratch(data));
}

export function decompress(data: Uint8Array, what: string, expectedLength?: number): Buffer {
  let out: Buffer;
  try {
    out = zstdDecompress(data);
  } catch (err) {
    throw new ArcaError(`${what}: zstd decompression failed: ${messageOf(err)}`);
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new ArcaError(`${what}: decompressed to ${out.length} bytes, the index says ${expectedLength}`);
  }
  return out;
}
