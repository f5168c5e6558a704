// A blob as a pack stores it: compressed where that pays, then encrypted. Used on the calling
// thread for small blobs and in the blob workers for large ones.
import { compressedView } from "./compression.js";
import { encrypt, type MasterKey } from "./crypto.js";

export interface SealedBlob {
  stored: Buffer;
  /** Set when `stored` holds compressed bytes: the blob's plain length. */
  uncompressedLength?: number;
}

export function sealBlob(key: MasterKey, data: Uint8Array, compression: boolean): SealedBlob {
  const packed = compression ? compressedView(data) : undefined;
  // encrypt copies out of the compression scratch before anything reuses it
  const stored = encrypt(key, packed ?? data);
  return packed ? { stored, uncompressedLength: data.length } : { stored };
}
