// zstd, as repository format v2 uses it: per blob, and kept only where it pays.
import { Compressor, decompress as zstdDecompress } from "zstd-napi";
import { ArcaError, messageOf } from "../common/errors.js";

/** zstd's level 3, the same "default" speed/ratio point restic's auto mode uses. */
export const COMPRESSION_LEVEL = 3;
/** A blob is stored compressed only if that saves at least this fraction. */
const MIN_SAVING = 0.03;
const SAMPLE = 64 * 1024;

let compressor: Compressor | undefined;

function zstd(data: Uint8Array): Buffer {
  if (!compressor) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: COMPRESSION_LEVEL });
  }
  return compressor.compress(data);
}

/**
 * The compressed form of `data`, or undefined when compression does not pay. Large inputs are
 * first judged by a sample, so incompressible data (media, archives) costs little CPU.
 */
export function compressIfWorthIt(data: Uint8Array): Buffer | undefined {
  if (data.length < 64) return undefined;
  if (data.length > 4 * SAMPLE) {
    const sample = data.subarray(0, SAMPLE);
    if (zstd(sample).length > sample.length * (1 - MIN_SAVING)) return undefined;
  }
  const packed = zstd(data);
  return packed.length <= data.length * (1 - MIN_SAVING) ? packed : undefined;
}

/** Always compresses (metadata files: small JSON, compressible). */
export function compress(data: Uint8Array): Buffer {
  return zstd(data);
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
