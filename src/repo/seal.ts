// A blob as a pack stores it: compressed where that pays, then encrypted. Used on the calling
// thread for small blobs (sealed straight into their pack) and in the blob workers.
import { joinedForNow, type Bytes } from "../common/bytes.js";
import { compressedView } from "./compression.js";
import { CRYPTO_OVERHEAD, encryptInto, type MasterKey } from "./crypto.js";

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
