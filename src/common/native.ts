// Arca's own native addon (native/*.c, built by node-gyp at `npm ci`): Poly1305 and restic's
// sealing of a blob in one call (JavaScript ran at a fifth of the speed the pipeline needs),
// or of many small ones off the main thread; SHA-256 of bytes in pieces, the Linux xattr calls
// Node.js lacks (typed for callers in src/snapshot/xattr.ts), allocator settings, and the scan
// of Kubernetes list pages (typed in src/kube/json-items.ts).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ArcaError } from "./errors.js";

interface NativeAddon {
  poly1305(message: Uint8Array, key: Uint8Array): Buffer;
  /**
   * restic's sealing (native/seal.c) with a 64-byte key (encryption key, MAC k, MAC r):
   * writes IV, ciphertext and MAC at `offset`, returns the length written.
   */
  seal(key: Uint8Array, plain: Uint8Array, out: Uint8Array, offset: number): number;
  /**
   * Compresses (zstd at `level`, 0 for none; blobs of `minLength` bytes and more; kept if at
   * most `maxKept` of the plain size) and seals blobs on a thread of libuv's pool
   * (native/seal-batch.c). `input` holds them back to back, `lengths` their sizes; they land
   * back to back in `out`, and `results` gets each one's stored length and uncompressed
   * length (-1: stored as given). Nothing may change until the promise settles.
   */
  sealBatch(
    key: Uint8Array,
    input: Uint8Array,
    lengths: Uint32Array,
    level: number,
    minLength: number,
    maxKept: number,
    out: Uint8Array,
    results: Int32Array,
  ): Promise<void>;
  /** Checks the MAC and decrypts into `out` at `offset`; false (nothing written) if it fails. */
  open(key: Uint8Array, sealed: Uint8Array, out: Uint8Array, offset: number): boolean;
  /** SHA-256 of up to four pieces, as if joined (native/sha256.c); lowercase hex. */
  sha256Hex(...pieces: Uint8Array[]): string;
  /**
   * The xattr calls never follow a symlink. They throw Node-style fs errors (code, errno,
   * syscall, path, and `attribute` for get/set); off Linux, always ENOTSUP.
   */
  llistxattr(path: string | Uint8Array): string[];
  lgetxattr(path: string | Uint8Array, name: string): Buffer;
  /** Creates or replaces. */
  lsetxattr(path: string | Uint8Array, name: string, value: Uint8Array): void;
  /** Sets atime and mtime to the nanosecond, never following a symlink (native/utimens.c). */
  lutimens(
    path: string | Uint8Array,
    atimeSec: number,
    atimeNsec: number,
    mtimeSec: number,
    mtimeNsec: number,
  ): void;
  /** Sets glibc's allocator up for many short-lived large buffers (native/memory.c). */
  tuneAllocator(): boolean;
  /** Spans of a LIST response's items and their heads (native/json-items.c); null if malformed. */
  scanList(body: Uint8Array): Int32Array | null;
  /** FastCDC's gear-hash loop (native/fastcdc.c): the end of the chunk, or `limit`. */
  fastcdcScan(
    gear: Int32Array,
    data: Uint8Array,
    from: number,
    normal: number,
    limit: number,
    maskS: number,
    maskL: number,
  ): number;
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  // src/common (sources) or dist/src/common (built): the addon sits in the package's build/.
  for (const up of ["../..", "../../.."]) {
    const path = fileURLToPath(new URL(`${up}/build/Release/arca_native.node`, import.meta.url));
    if (existsSync(path)) return require(path) as NativeAddon;
  }
  throw new ArcaError("Arca's native addon (build/Release/arca_native.node) is missing", {
    hint: "run `npm ci` (or `npm rebuild`) in Arca's directory; it compiles the addon with node-gyp",
  });
}

export const native: NativeAddon = load();
