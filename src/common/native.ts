// Arca's own native addon (native/*.c, built by node-gyp at `npm ci`): Poly1305 and restic's
// sealing of a blob in one call (JavaScript ran at a fifth of the speed the pipeline needs),
// or of many small ones off the main thread; SHA-256 of bytes in pieces, the Linux xattr calls
// Node.js lacks (typed for callers in src/snapshot/xattr.ts), allocator settings, and the scan
// of Kubernetes list pages (typed in src/kube/json-items.ts).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ArcaError, messageOf } from "./errors.js";

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
   * length (-1: stored as given), when the promise resolves. The work has its own copies, so
   * the arrays may change meanwhile; it rejects if `out` or `results` was transferred or shrunk.
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

/** Every function of the addon (a compile error if one is left out). */
const FUNCTIONS: { [name in keyof NativeAddon]: true } = {
  poly1305: true,
  seal: true,
  sealBatch: true,
  open: true,
  sha256Hex: true,
  llistxattr: true,
  lgetxattr: true,
  lsetxattr: true,
  lutimens: true,
  tuneAllocator: true,
  scanList: true,
  fastcdcScan: true,
};

/** The package's directory: src/common (sources) or dist/src/common (built) is in it. */
function packageRoot(): string {
  const up = ["../..", "../../.."].find((dir) => existsSync(new URL(`${dir}/package.json`, import.meta.url)));
  return resolve(fileURLToPath(new URL(up ?? "../..", import.meta.url)));
}

/** $ARCA_NATIVE_ADDON (for tests and packagers) or the package's build/Release/arca_native.node. */
function load(): NativeAddon {
  const override = process.env.ARCA_NATIVE_ADDON;
  const root = packageRoot();
  const path = override || join(root, "build", "Release", "arca_native.node");
  const from = override ? `${path} (set by ARCA_NATIVE_ADDON)` : path;
  const todo = override
    ? "point ARCA_NATIVE_ADDON at a built arca_native.node, or unset it"
    : `run \`npm rebuild\` in ${root} (node-gyp compiles it with python3, make and a C compiler)`;
  // One line with the remedy in the message itself: callers add context with messageOf(), which drops hints.
  if (!existsSync(path)) throw new ArcaError(`Arca's native addon is missing: no ${from}; ${todo}`);
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    const reason = messageOf(err).split("\n")[0]?.replace(`${path}: `, "");
    throw new ArcaError(`Arca's native addon could not be loaded from ${from}: ${reason}; ${todo}`, {
      cause: err,
    });
  }
}

let loaded: NativeAddon | undefined;
let tuneWhenLoaded = false;

const names = Object.keys(FUNCTIONS) as Array<keyof NativeAddon>;
const stubs = new Map<keyof NativeAddon, unknown>();

function loadOnce(): NativeAddon {
  if (loaded) return loaded;
  loaded = load();
  const slots = native as unknown as Record<string, unknown>;
  // A function a test has mocked meanwhile stays mocked.
  for (const name of names) if (slots[name] === stubs.get(name)) slots[name] = loaded[name];
  if (tuneWhenLoaded) loaded.tuneAllocator();
  return loaded;
}

/**
 * The addon, loaded by the first call of any of its functions, which then calls it directly:
 * commands that touch no repository data (install, version, the remote ones) never load it,
 * and still work on a machine where it could not be built.
 */
export const native = {} as NativeAddon;
for (const name of names) {
  const stub = (...args: unknown[]) => (loadOnce()[name] as (...args: unknown[]) => unknown)(...args);
  stubs.set(name, stub);
  (native as unknown as Record<string, unknown>)[name] = stub;
}

/** The CLI's allocator settings (native/memory.c), made when the addon loads, or now if it has. */
export function tuneAllocatorWhenLoaded(): void {
  if (loaded) loaded.tuneAllocator();
  else tuneWhenLoaded = true;
}
