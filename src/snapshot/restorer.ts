// Restores a snapshot, or a path inside it, into a directory: contents fetched in parallel and
// authenticated blob by blob, then metadata. Over existing files, only chunks whose bytes
// differ are written; all-zero chunks of new files become holes (sparse files).
import { execFile } from "node:child_process";
import { chmodSync, lchownSync } from "node:fs";
import { link, lstat, mkdir, open, rename, rm, symlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { fsPath, hasRawBytes, printable } from "../common/byte-names.js";
import { ArcaError, messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { allSettledOrThrow, Slots } from "../common/slots.js";
import { contentId, type Id } from "../repo/layout.js";
import type { Node } from "../repo/model.js";
import type { Repository } from "../repo/repository.js";
import { RepositoryLock } from "../repo/lock.js";
import { nodeAt } from "./reader.js";
import { setTimes, unixPermissions } from "./metadata.js";
import { restoreExtendedAttributes } from "./xattr.js";

export interface RestoreOptions {
  /** Path inside the snapshot to restore, e.g. "/home/app/data"; the whole tree by default. */
  include?: string;
  progress?: Progress;
  signal?: AbortSignal;
  /** Blobs fetched at once, per file. */
  concurrency?: number;
  /** Files restored at once. */
  files?: number;
}

export interface RestoreResult {
  files: number;
  bytes: number;
  /** Bytes left as they were, because the existing file already held them. */
  bytesSkipped: number;
}

const isRoot = process.getuid?.() === 0;
const run = promisify(execFile);

/** Zero runs shorter than this are written: holes come in file system blocks. */
const HOLE_BLOCK = 64 * 1024;

const ZEROS = Buffer.alloc(HOLE_BLOCK);

function isZero(block: Buffer): boolean {
  return block.equals(ZEROS.subarray(0, block.length));
}

class Restorer {
  readonly result: RestoreResult = { files: 0, bytes: 0, bytesSkipped: 0 };
  /** What the restore will write, counted first so that progress can show an ETA. */
  totals: { files: number; bytes: number } | undefined;
  /** First name of each multiply-linked file, and the promise of its content. */
  private readonly hardLinks = new Map<string, { path: string; created: Promise<void> }>();
  private readonly slots: Slots;
  private readonly progress: Progress;
  private readonly concurrency: number;

  constructor(
    private readonly repo: Repository,
    /** The directory restored into: where fifos and devices with byte names are made first. */
    private readonly target: string,
    private readonly options: RestoreOptions,
  ) {
    this.progress = options.progress ?? noProgress;
    this.concurrency = options.concurrency ?? 8;
    this.slots = new Slots(options.files ?? 32);
  }

  /** `path` on disk, `inSnapshot` the file's path in the snapshot: both name it. */
  private fail(path: string, inSnapshot: string, err: unknown): never {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === "ENOSPC" || code === "EDQUOT"
        ? "free space on the target file system; what was restored so far stays, and running the restore again writes only what is missing"
        : err instanceof ArcaError
          ? err.hint
          : undefined;
    throw new ArcaError(`restoring ${printable(inSnapshot)} to ${printable(path)}: ${messageOf(err)}`, {
      cause: err,
      hint,
    });
  }

  async restoreDir(treeId: Id, dir: string, inSnapshot: string): Promise<void> {
    const tree = await this.repo
      .loadTree(treeId, this.options.signal)
      .catch((err: unknown) => this.fail(dir, inSnapshot || "/", err));
    for (const node of tree.nodes) {
      const name = node.name;
      if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
        throw new ArcaError(
          `tree ${treeId.slice(0, 8)} holds an unsafe name ${JSON.stringify(printable(name))}; refusing to restore it`,
        );
      }
    }
    // Children in parallel (files bounded by the slot pool); the directory's own metadata is
    // applied by the caller once all of them are done.
    await allSettledOrThrow(
      tree.nodes.map((node) => this.restoreNode(node, join(dir, node.name), `${inSnapshot}/${node.name}`)),
    );
  }

  /** Restores `node` at `path`; `inSnapshot` is where the snapshot holds it, for messages. */
  async restoreNode(node: Node, path: string, inSnapshot: string): Promise<void> {
    this.options.signal?.throwIfAborted();
    try {
      switch (node.type) {
        case "dir":
          await mkdir(fsPath(path), { recursive: true });
          if (node.subtree) await this.restoreDir(node.subtree, path, inSnapshot);
          break;
        case "file": {
          await this.slots.acquire();
          try {
            if (!(await this.hardLink(node, path))) await this.restoreFile(node, path);
          } finally {
            this.slots.release();
          }
          break;
        }
        case "symlink":
          await rm(fsPath(path), { force: true });
          await symlink(fsPath(node.linktarget ?? ""), fsPath(path));
          break;
        case "fifo":
          await rm(fsPath(path), { force: true });
          await this.make(path, "mkfifo", []);
          break;
        case "dev":
        case "chardev": {
          if (!isRoot) {
            this.progress.warning(`${printable(path)}: device nodes need root; skipped`);
            return;
          }
          await rm(fsPath(path), { force: true });
          const dev = node.device ?? 0;
          const major = (dev >> 8) & 0xfff;
          const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
          await this.make(path, "mknod", [node.type === "dev" ? "b" : "c", String(major), String(minor)]);
          break;
        }
        default:
          this.progress.warning(`${printable(path)}: ${node.type} entries are not restored`);
          return;
      }
      await this.applyMetadata(node, path);
    } catch (err) {
      // A directory's children name themselves; anything else is named here.
      if (node.type === "dir" && err instanceof ArcaError) throw err;
      this.fail(path, inSnapshot, err);
    }
  }

  /** Runs `mkfifo` or `mknod` for `path`, by way of a UTF-8 name when it has raw bytes. */
  private async make(path: string, command: string, args: string[]): Promise<void> {
    if (!hasRawBytes(path)) {
      await run(command, [path, ...args]);
      return;
    }
    const made = join(this.target, `.arca-mknod-${process.pid}-${Math.random().toString(36).slice(2)}`);
    await run(command, [made, ...args]);
    await rename(made, fsPath(path));
  }

  /** A second name of a file restored already in this run: link it instead of writing it. */
  private async hardLink(node: Node, path: string): Promise<boolean> {
    if ((node.links ?? 1) < 2 || node.inode === undefined) return false;
    const key = `${node.device_id ?? 0}:${node.inode}`;
    const first = this.hardLinks.get(key);
    if (!first) {
      this.hardLinks.set(key, { path, created: this.restoreFile(node, path) });
      await this.hardLinks.get(key)?.created;
      return true;
    }
    await first.created;
    await rm(fsPath(path), { force: true });
    await link(fsPath(first.path), fsPath(path));
    return true;
  }

  private async restoreFile(node: Node, path: string): Promise<void> {
    const existing = await lstat(fsPath(path)).catch(() => undefined);
    if (existing && !existing.isFile()) await rm(fsPath(path), { recursive: true, force: true });
    const reuse = existing?.isFile() === true;
    const handle = await open(fsPath(path), reuse ? "r+" : "w");
    try {
      const content = node.content ?? [];
      const offsets: number[] = [];
      let offset = 0;
      for (const id of content) {
        offsets.push(offset);
        const size = this.repo.blobSize(id);
        if (size === undefined)
          throw new ArcaError(`blob ${id.slice(0, 8)} is not in the repository's index`);
        offset += size;
      }
      let next = 0;
      const worker = async () => {
        while (next < content.length) {
          const i = next++;
          await this.restoreChunk(handle, content[i] as Id, offsets[i] as number, reuse);
        }
      };
      await allSettledOrThrow(Array.from({ length: Math.min(this.concurrency, content.length) }, worker));
      await handle.truncate(offset);
      this.result.files++;
      this.progress.update({
        files: this.result.files,
        bytes: this.result.bytes + this.result.bytesSkipped,
        totalFiles: this.totals?.files,
        totalBytes: this.totals?.bytes,
        current: printable(path),
      });
    } finally {
      await handle.close();
    }
  }

  private async restoreChunk(handle: FileHandle, id: Id, offset: number, reuse: boolean): Promise<void> {
    const size = this.repo.blobSize(id) ?? 0;
    if (reuse) {
      const current = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(current, 0, size, offset);
      if (bytesRead === size && contentId(current) === id) {
        this.result.bytesSkipped += size;
        return;
      }
    }
    const data = await this.repo.loadBlob(id, this.options.signal);
    this.result.bytes += data.length;
    if (reuse) {
      await handle.write(data, 0, data.length, offset);
      return;
    }
    // In a new file, runs of zeros are left unwritten: holes, once truncate sets the length.
    let start = -1;
    for (let at = 0; at <= data.length; at += HOLE_BLOCK) {
      const block = data.subarray(at, at + HOLE_BLOCK);
      const zero = at === data.length || isZero(block);
      if (!zero && start < 0) start = at;
      if (zero && start >= 0) {
        const end = Math.min(at, data.length);
        await handle.write(data, start, end - start, offset + start);
        start = -1;
      }
    }
    if (start >= 0) await handle.write(data, start, data.length - start, offset + start);
  }

  /** Synchronous: each is one quick system call, cheaper than a thread-pool round trip. */
  private async applyMetadata(node: Node, path: string): Promise<void> {
    const at = fsPath(path);
    if (isRoot) {
      try {
        lchownSync(at, node.uid, node.gid);
      } catch {
        // an owner this system cannot represent: keep the restoring user's
      }
    }
    // After chown, which drops security.capability; before chmod, since a read-only mode
    // would refuse user.* attributes to a non-root restore. A target that refuses one
    // (ENOTSUP; EPERM for trusted.* as non-root) costs that attribute, not the restore.
    if (node.extended_attributes?.length)
      restoreExtendedAttributes(at, node.extended_attributes, (err, name) =>
        this.progress.warning(
          `${printable(path)}: extended attribute ${name} not restored: ${messageOf(err)}`,
        ),
      );
    if (node.type !== "symlink" && node.mode !== undefined) chmodSync(at, unixPermissions(node.mode));
    if (node.atime && node.mtime) setTimes(at, node.atime, node.mtime);
  }
}

/** Restores `snapshotTree` (or the node at options.include inside it) into `target`. */
export async function restoreTree(
  repo: Repository,
  tree: Id,
  target: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const lock = await RepositoryLock.acquire(repo, false);
  try {
    return await restore(repo, tree, target, options);
  } finally {
    await lock.release();
  }
}

/** Files and bytes under a tree: trees are small next to the data, so this pass is cheap. */
async function countTree(
  repo: Repository,
  tree: Id,
  signal?: AbortSignal,
): Promise<{ files: number; bytes: number }> {
  const totals = { files: 0, bytes: 0 };
  const walk = async (id: Id): Promise<void> => {
    const nodes = (await repo.loadTree(id, signal)).nodes;
    await Promise.all(
      nodes.map(async (n) => {
        if (n.type === "file") {
          totals.files++;
          totals.bytes += n.size ?? 0;
        } else if (n.type === "dir" && n.subtree) await walk(n.subtree);
      }),
    );
  };
  await walk(tree);
  return totals;
}

async function restore(
  repo: Repository,
  tree: Id,
  target: string,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const restorer = new Restorer(repo, target, options);
  await mkdir(target, { recursive: true });
  const parts = (options.include ?? "/").split("/").filter(Boolean);
  if (parts.length === 0) {
    restorer.totals = await countTree(repo, tree, options.signal);
    await restorer.restoreDir(tree, target, "");
    return restorer.result;
  }
  const node = await nodeAt(repo, tree, parts, options.signal);
  if (!node)
    throw new ArcaError(`path ${options.include} is not in the snapshot`, {
      hint: "list the snapshot's paths with `restic ls` or `arca repo snapshots`",
    });
  if (node.type === "dir" && node.subtree) {
    restorer.totals = await countTree(repo, node.subtree, options.signal);
    await restorer.restoreDir(node.subtree, target, `/${parts.join("/")}`);
  } else {
    restorer.totals = { files: 1, bytes: node.size ?? 0 };
    await restorer.restoreNode(node, join(target, node.name), `/${parts.join("/")}`);
  }
  return restorer.result;
}
