// file:// locations: a directory on a local or mounted file system. Writes are atomic (temp
// file, fsync, rename), creates are exclusive (hard link), and no key can leave the root.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { messageOf } from "../common/errors.js";
import { processExists } from "../common/process.js";
import { StorageError, type StorageAction } from "./errors.js";
import { checkKey, checkPrefix } from "./keys.js";
import type {
  CallOptions,
  GetOptions,
  LeftoverOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
} from "./types.js";

const TEMP_PREFIX = ".arca-tmp-";
/** A temp file names its writer (host hash, pid), so that one a dead process left is known. */
const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);
const TEMP_NAME = /^\.arca-tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/;
const MAX_OPEN_HANDLES = 64;

interface CachedHandle {
  handle: Promise<{ handle: FileHandle; size: number }>;
  users: number;
  evicted: boolean;
}

async function closeQuietly(handle: CachedHandle["handle"]): Promise<void> {
  try {
    await (await handle).handle.close();
  } catch {
    // already closed, or never opened
  }
}

export class FileStore implements ObjectStore {
  readonly location: string;
  readonly atomicCreate = true;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `file://${this.root}`;
  }

  private path(key: string, action: StorageAction): string {
    let path: string;
    try {
      path = resolve(this.root, checkKey(key));
    } catch (err) {
      throw new StorageError("invalid", action, this.location, key, messageOf(err), { cause: err });
    }
    // checkKey already refuses '..'; this also catches anything resolve() might still do.
    if (!path.startsWith(this.root + sep)) {
      throw new StorageError(
        "invalid",
        action,
        this.location,
        key,
        "the key resolves outside the location's root",
      );
    }
    return path;
  }

  private fail(action: StorageAction, key: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const detail = messageOf(err);
    switch (code) {
      case "ENOENT":
        return new StorageError("not-found", action, this.location, key, "no such object", { cause: err });
      case "EACCES":
      case "EPERM":
      case "EROFS":
        return new StorageError("access-denied", action, this.location, key, detail, {
          cause: err,
          hint: `give the user running Arca read and write access to ${this.root}`,
        });
      case "ABORT_ERR":
        return new StorageError("aborted", action, this.location, key, "aborted", { cause: err });
      case "ENOSPC":
      case "EDQUOT":
        return new StorageError("server", action, this.location, key, detail, {
          cause: err,
          hint: `free space on the file system of ${this.root}`,
        });
      default:
        return new StorageError("server", action, this.location, key, detail, { cause: err });
    }
  }

  /** The root must exist: a typo in the URL should not silently create a new repository. */
  private async checkRoot(action: StorageAction, key: string): Promise<void> {
    try {
      const s = await stat(this.root);
      if (!s.isDirectory()) throw new Error("not a directory");
    } catch (err) {
      throw new StorageError(
        "no-such-bucket",
        action,
        this.location,
        key,
        `the root ${this.root} is not a directory (${messageOf(err)})`,
        {
          cause: err,
          hint: `create the directory ${this.root}, or correct the location URL`,
        },
      );
    }
  }

  /** Only `repo init` makes the root, as `restic init` does; every other command wants it there. */
  async createRoot(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (err) {
      // A file in the way: checkRoot, at the first write, says what it is.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw this.fail("put", "", err);
    }
  }

  /** Writes body to a new temp file beside the target, fsynced, and returns its path. */
  private async writeTemp(path: string, body: PutBody, signal?: AbortSignal): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = join(
      dirname(path),
      `${TEMP_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(8).toString("hex")}`,
    );
    const handle = await open(temp, "wx", 0o600);
    try {
      if (body instanceof Readable) {
        for await (const chunk of body) {
          signal?.throwIfAborted();
          await handle.write(chunk as Buffer);
        }
      } else {
        signal?.throwIfAborted();
        await handle.writeFile(body);
      }
      await handle.sync();
    } catch (err) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await handle.close();
    return temp;
  }

  private async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    try {
      const path = this.path(key, "put");
      await this.checkRoot("put", key);
      const temp = await this.writeTemp(path, body, options.signal);
      await rename(temp, path);
      await this.syncDir(dirname(path));
    } catch (err) {
      throw this.fail("put", key, err);
    }
  }

  async create(key: string, body: Buffer, options: CallOptions = {}): Promise<boolean> {
    try {
      const path = this.path(key, "put");
      await this.checkRoot("put", key);
      const temp = await this.writeTemp(path, body, options.signal);
      try {
        await link(temp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw err;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      await this.syncDir(dirname(path));
      return true;
    } catch (err) {
      throw this.fail("put", key, err);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    if (!options.range) {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.getStream(key, options)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    // Ranged reads (blobs out of packs) come by the thousand: one pread on a cached descriptor
    // each. Objects are never rewritten in place, so a cached descriptor never reads stale data.
    try {
      const path = this.path(key, "get");
      options.signal?.throwIfAborted();
      const { handle, size, done: release } = await this.readHandle(path);
      try {
        const { offset } = options.range;
        if (offset > size) {
          throw new StorageError(
            "invalid",
            "get",
            this.location,
            key,
            `range starts at ${offset}, past the object's ${size} bytes`,
          );
        }
        const length = Math.min(options.range.length ?? size - offset, size - offset);
        const out = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === length ? out : out.subarray(0, done);
      } finally {
        release();
      }
    } catch (err) {
      throw this.fail("get", key, err);
    }
  }

  private readonly handles = new Map<string, CachedHandle>();

  /** A shared read descriptor; closed once evicted and no read uses it. */
  private async readHandle(path: string): Promise<{ handle: FileHandle; size: number; done: () => void }> {
    let cached = this.handles.get(path);
    if (cached) {
      this.handles.delete(path); // most recently used goes last
    } else {
      // The size is read once with the descriptor: objects are written once, never grown.
      const handle = open(path, "r").then(async (h) => ({ handle: h, size: (await h.stat()).size }));
      cached = { handle, users: 0, evicted: false };
      cached.handle.catch(() => this.handles.delete(path));
    }
    this.handles.set(path, cached);
    if (this.handles.size > MAX_OPEN_HANDLES) {
      const [oldest, stale] = this.handles.entries().next().value as [string, CachedHandle];
      this.handles.delete(oldest);
      stale.evicted = true;
      if (stale.users === 0) void closeQuietly(stale.handle);
    }
    const entry = cached;
    entry.users++;
    const { handle, size } = await entry.handle;
    return {
      handle,
      size,
      done: () => {
        if (--entry.users === 0 && entry.evicted) void closeQuietly(entry.handle);
      },
    };
  }

  async getStream(key: string, options: GetOptions = {}): Promise<Readable> {
    try {
      const path = this.path(key, "get");
      options.signal?.throwIfAborted();
      const info = await stat(path);
      const start = options.range?.offset ?? 0;
      if (start > info.size) {
        throw new StorageError(
          "invalid",
          "get",
          this.location,
          key,
          `range starts at ${start}, past the object's ${info.size} bytes`,
        );
      }
      const length = options.range?.length;
      const end = length === undefined ? undefined : Math.min(info.size, start + length) - 1;
      if (end !== undefined && end < start) return Readable.from([]);
      return createReadStream(path, { start, end, signal: options.signal });
    } catch (err) {
      throw this.fail("get", key, err);
    }
  }

  async head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      options.signal?.throwIfAborted();
      const info = await stat(this.path(key, "head"));
      return info.isFile() ? { key, size: info.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw this.fail("head", key, err);
    }
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<ObjectInfo> {
    try {
      checkPrefix(prefix);
    } catch (err) {
      throw new StorageError("invalid", "list", this.location, prefix, messageOf(err), { cause: err });
    }
    await this.checkRoot("list", prefix);
    // The prefix may end mid-name ("data/ab"): walk its directory part, filter on the rest.
    const cut = prefix.lastIndexOf("/");
    const dirKey = cut < 0 ? "" : prefix.slice(0, cut);
    yield* this.walk(dirKey, prefix, options.signal);
  }

  private async *walk(dirKey: string, prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted();
    const dir = dirKey === "" ? this.root : this.path(dirKey, "list");
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw this.fail("list", prefix, err);
    }
    // Sort by the key each entry would have, so the order matches S3's byte order.
    const named = entries
      .filter((e) => !e.name.startsWith(TEMP_PREFIX))
      .map((e) => ({ e, key: dirKey === "" ? e.name : `${dirKey}/${e.name}` }))
      .sort((a, b) =>
        a.key + (a.e.isDirectory() ? "/" : "") < b.key + (b.e.isDirectory() ? "/" : "") ? -1 : 1,
      );
    for (const { e, key } of named) {
      if (e.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          yield* this.walk(key, prefix, signal);
      } else if (e.isFile() && key.startsWith(prefix)) {
        const info = await stat(join(dir, e.name)).catch(() => undefined);
        if (info) yield { key, size: info.size };
      }
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    try {
      options.signal?.throwIfAborted();
      await unlink(this.path(key, "delete"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw this.fail("delete", key, err);
    }
  }

  async removeLeftovers(options: LeftoverOptions): Promise<ObjectInfo[]> {
    const removed: ObjectInfo[] = [];
    const now = Date.now();
    const visit = async (dir: string, dirKey: string): Promise<void> => {
      options.signal?.throwIfAborted();
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw this.fail("list", dirKey, err);
      });
      for (const e of entries) {
        const key = dirKey === "" ? e.name : `${dirKey}/${e.name}`;
        if (e.isDirectory()) await visit(join(dir, e.name), key);
        if (!e.isFile() || !e.name.startsWith(TEMP_PREFIX)) continue;
        const info = await stat(join(dir, e.name)).catch(() => undefined);
        if (!info) continue;
        const writer = TEMP_NAME.exec(e.name);
        const writerGone = writer?.[1] === HOST_TAG && !processExists(Number(writer[2]));
        if (!writerGone && now - info.mtimeMs < options.olderThanMs) continue;
        try {
          await unlink(join(dir, e.name));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw this.fail("delete", key, err);
        }
        removed.push({ key, size: info.size });
      }
    };
    await this.checkRoot("list", "");
    await visit(this.root, "");
    return removed;
  }

  close(): void {
    for (const cached of this.handles.values()) {
      cached.evicted = true;
      if (cached.users === 0) void closeQuietly(cached.handle);
    }
    this.handles.clear();
  }
}
