// Backs up a directory into one snapshot, laid out as restic lays it out: the tree starts at
// the file system root and holds each component of the path. Files unchanged since the
// parent snapshot (same size, mtime, ctime and inode) reuse their content list unread; their
// metadata, extended attributes included, is read again.
import { lstatSync, readdirSync, readFileSync, readlinkSync, type BigIntStats, type Dirent } from "node:fs";
import { lstat, open, stat } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fromBytes, fsPath, printable } from "../common/byte-names.js";
import { ArcaError, messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { allSettledOrThrow, Slots } from "../common/slots.js";
import type { Id } from "../repo/layout.js";
import {
  sortedByNameBytes,
  type Node,
  type Snapshot,
  type SnapshotSummary,
  type Tree,
} from "../repo/model.js";
import type { Repository } from "../repo/repository.js";
import { RepositoryLock } from "../repo/lock.js";
import { nodeAt } from "./reader.js";
import { formatTime } from "../repo/time.js";
import { FastCdc } from "./fastcdc.js";
import { nodeFromStat, nodeType, unchanged } from "./metadata.js";
import { readExtendedAttributes } from "./xattr.js";

export interface BackupOptions {
  parent?: Id;
  tags?: string[];
  hostname?: string;
  time?: Date;
  programVersion?: string;
  progress?: Progress;
  signal?: AbortSignal;
}

export interface BackupResult {
  id: Id;
  snapshot: Snapshot;
  warnings: string[];
}

const READ_SIZE = 8 * 1024 * 1024;
/** Files up to the minimum chunk size are a single blob. */
const SMALL_FILE = 512 * 1024;

type Counters = Pick<
  SnapshotSummary,
  | "files_new"
  | "files_changed"
  | "files_unmodified"
  | "dirs_new"
  | "dirs_changed"
  | "dirs_unmodified"
  | "total_files_processed"
  | "total_bytes_processed"
>;

class Archiver {
  readonly warnings: string[] = [];
  readonly counts: Counters = {
    files_new: 0,
    files_changed: 0,
    files_unmodified: 0,
    dirs_new: 0,
    dirs_changed: 0,
    dirs_unmodified: 0,
    total_files_processed: 0,
    total_bytes_processed: 0,
  };
  private readonly chunker: FastCdc;
  private readonly buffer: Buffer;
  private readonly progress: Progress;
  private readonly slots = new Slots(32);
  private readonly bigFiles = new Slots(1);

  constructor(
    private readonly repo: Repository,
    private readonly options: BackupOptions,
  ) {
    this.chunker = new FastCdc(repo.config.chunker_polynomial);
    this.buffer = Buffer.allocUnsafe(this.chunker.sizes.max + READ_SIZE);
    this.progress = options.progress ?? noProgress;
  }

  /** `outcome`: what the problem cost, "skipped" when the entry is left out of the snapshot. */
  private warn(path: string, err: unknown, outcome = "skipped"): void {
    const message = `${printable(path)}: ${messageOf(err)} (${outcome})`;
    this.warnings.push(message);
    this.progress.warning(message);
  }

  /** The node for `path`, extended attributes included; unreadable ones are warnings. */
  nodeOf(path: string, name: string, stat: BigIntStats): Node {
    const xattrs = readExtendedAttributes(fsPath(path), nodeType(stat), (err, attribute) =>
      this.warn(
        path,
        err,
        attribute ? `extended attribute ${attribute} not recorded` : "extended attributes not recorded",
      ),
    );
    return nodeFromStat(name, stat, xattrs);
  }

  private report(current: string): void {
    this.progress.update({
      files: this.counts.total_files_processed,
      bytes: this.counts.total_bytes_processed,
      current: printable(current),
    });
  }

  /** A file below the minimum chunk size is one blob: read it whole, in its own buffer. */
  private async saveSmallFile(path: string): Promise<Stored> {
    // Synchronous on purpose: for a small file in the page cache, one readFileSync costs a
    // fraction of the four thread-pool round trips of fs/promises (measured: the main thread
    // spent a third of a small-file backup in them).
    const data = readFileSync(fsPath(path));
    // The file may have grown since lstat: chunk it then, like any other (saveFile counts it).
    if (data.length > this.chunker.sizes.min) return this.bigFiles.run(() => this.saveFile(path));
    this.counts.total_bytes_processed += data.length;
    if (data.length === 0) return { content: [], size: 0 };
    return { content: [(await this.repo.saveBlob("data", data)).id], size: data.length };
  }

  /** Reads, chunks and stores a file; returns its content list and the bytes it holds. */
  private async saveFile(path: string): Promise<Stored> {
    const handle = await open(fsPath(path), "r");
    const content: Id[] = [];
    let size = 0;
    try {
      const buf = this.buffer;
      let filled = 0;
      let eof = false;
      for (;;) {
        while (!eof && filled < buf.length) {
          const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
          if (bytesRead === 0) eof = true;
          filled += bytesRead;
          this.counts.total_bytes_processed += bytesRead;
        }
        let pos = 0;
        while (pos < filled && (eof || filled - pos >= this.chunker.sizes.max)) {
          this.options.signal?.throwIfAborted();
          const n = this.chunker.cut(buf, pos, filled);
          content.push((await this.repo.saveBlob("data", buf.subarray(pos, pos + n))).id);
          pos += n;
          size += n;
        }
        if (eof) return { content, size };
        buf.copyWithin(0, pos, filled);
        filled -= pos;
        this.report(path);
      }
    } finally {
      await handle.close();
    }
  }

  /** Stores one directory's tree and returns the node for it (subtree set). */
  async saveDir(path: string, node: Node, previous: Node | undefined): Promise<Node> {
    const previousTree = previous?.subtree ? await this.loadPrevious(previous.subtree) : undefined;
    const prevByName = new Map((previousTree?.nodes ?? []).map((n) => [n.name, n]));
    let entries: Entry[];
    try {
      entries = listDirectory(path);
    } catch (err) {
      this.warn(path, err);
      entries = [];
    }
    // Subdirectories one after the other; other entries in parallel, at most `slots` at once
    // across the whole walk: what is in flight grows with the depth of the tree and the width
    // of one directory, never with the size of the whole tree.
    const pending: Array<Promise<Node | undefined>> = [];
    try {
      for (const entry of entries) {
        const child = join(path, entry.name);
        const previousChild = prevByName.get(entry.name);
        if (entry.isDirectory()) {
          pending.push(Promise.resolve(await this.saveEntry(child, entry.name, previousChild)));
          continue;
        }
        await this.slots.acquire();
        pending.push(this.saveEntry(child, entry.name, previousChild).finally(() => this.slots.release()));
      }
    } catch (err) {
      // Let the entries already started finish before the failure is reported.
      await Promise.allSettled(pending);
      throw err;
    }
    const children = await allSettledOrThrow(pending);
    const nodes = children.filter((n): n is Node => n !== undefined);
    const tree: Tree = { nodes };
    const subtree = await this.repo.saveTree(tree);
    if (!previous) this.counts.dirs_new++;
    else if (previous.subtree === subtree) this.counts.dirs_unmodified++;
    else this.counts.dirs_changed++;
    return { ...node, subtree };
  }

  private async loadPrevious(id: Id): Promise<Tree | undefined> {
    try {
      return await this.repo.loadTree(id, this.options.signal);
    } catch (err) {
      this.warn(`parent tree ${id.slice(0, 8)}`, err);
      return undefined;
    }
  }

  async saveEntry(path: string, name: string, previous: Node | undefined): Promise<Node | undefined> {
    let stat: BigIntStats;
    try {
      stat = lstatSync(fsPath(path), { bigint: true });
    } catch (err) {
      this.warn(path, err);
      return undefined;
    }
    const node = this.nodeOf(path, name, stat);
    try {
      switch (node.type) {
        case "dir":
          return await this.saveDir(path, node, previous?.type === "dir" ? previous : undefined);
        case "file": {
          this.counts.total_files_processed++;
          if (unchanged(node, previous) && previous?.content) {
            this.counts.files_unmodified++;
            this.counts.total_bytes_processed += node.size ?? 0;
            return { ...node, content: previous.content };
          }
          const { content, size } =
            (node.size ?? 0) <= SMALL_FILE
              ? await this.saveSmallFile(path)
              : await this.bigFiles.run(() => this.saveFile(path));
          if (previous) this.counts.files_changed++;
          else this.counts.files_new++;
          this.report(path);
          if (size === (node.size ?? 0)) return { ...node, content };
          // The node says what its content holds: restore and check rely on it.
          this.warn(
            path,
            `size changed while it was read, from ${node.size ?? 0} to ${size} bytes`,
            "stored as read",
          );
          return withSize({ ...node, content }, size);
        }
        case "symlink":
          return { ...node, linktarget: fromBytes(readlinkSync(fsPath(path), { encoding: "buffer" })) };
        default:
          return node;
      }
    } catch (err) {
      // Only the file system's complaints about this entry are warnings; a failing repository,
      // store or worker fails the backup.
      if (this.options.signal?.aborted || !isFileSystemError(err)) throw err;
      this.warn(path, err);
      return undefined;
    }
  }
}

/** A file's content as stored: blob IDs and the bytes they hold. */
interface Stored {
  content: Id[];
  size: number;
}

type Entry = Pick<Dirent, "name" | "isDirectory">;

/** A directory's entries in restic's order, names as common/byte-names.ts holds them. */
function listDirectory(path: string): Entry[] {
  const entries = readdirSync(fsPath(path), { withFileTypes: true });
  // A name that is not UTF-8 reads as U+FFFD (which a name can also hold): then read bytes.
  if (!entries.some((e) => e.name.includes("\ufffd"))) return sortedByNameBytes(entries);
  const raw = readdirSync(fsPath(path), { withFileTypes: true, encoding: "buffer" });
  return sortedByNameBytes(raw.map((e) => ({ name: fromBytes(e.name), isDirectory: () => e.isDirectory() })));
}

/** The node with `size` set as restic sets it (left out when zero). */
function withSize(node: Node, size: number): Node {
  const { size: _stale, ...rest } = node;
  return size > 0 ? { ...rest, size } : rest;
}

function isFileSystemError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (
    typeof code === "string" && /^E[A-Z]+$/.test(code) && (err as NodeJS.ErrnoException).syscall !== undefined
  );
}

export async function backupDirectory(
  repo: Repository,
  dir: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const root = resolve(dir);
  const rootStat = await stat(root).catch((err: unknown) => {
    throw new ArcaError(`cannot back up ${root}: ${messageOf(err)}`);
  });
  if (!rootStat.isDirectory()) throw new ArcaError(`cannot back up ${root}: not a directory`);
  const lock = await RepositoryLock.acquire(repo, false);
  try {
    return await backup(repo, root, options);
  } finally {
    await lock.release();
  }
}

async function backup(repo: Repository, root: string, options: BackupOptions): Promise<BackupResult> {
  const started = new Date();
  const archiver = new Archiver(repo, options);
  const components = root.split(sep).filter(Boolean);

  let parentTree: Id | undefined;
  if (options.parent) parentTree = (await repo.loadSnapshot(options.parent)).tree;
  // A damaged or foreign parent only costs the reuse of its content, so it is not an error.
  const previousDir = parentTree
    ? await nodeAt(repo, parentTree, components).catch(() => undefined)
    : undefined;

  // The directory itself, then one single-entry tree per ancestor up to the root.
  const top = archiver.nodeOf(root, basename(root), await lstat(root, { bigint: true }));
  let node = await archiver.saveDir(root, top, previousDir?.type === "dir" ? previousDir : undefined);
  let path = root;
  for (let i = components.length - 1; i > 0; i--) {
    path = dirname(path);
    const ancestor = archiver.nodeOf(path, components[i - 1] as string, await lstat(path, { bigint: true }));
    node = { ...ancestor, subtree: await repo.saveTree({ nodes: [node] }) };
  }
  const tree = await repo.saveTree({ nodes: [node] });
  await repo.flush();

  const stats = repo.stats;
  const snapshot: Snapshot = {
    time: formatTime(options.time ?? started),
    ...(options.parent ? { parent: options.parent } : {}),
    tree,
    paths: [root],
    hostname: options.hostname ?? hostname(),
    username: userInfo().username,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    ...(options.tags?.length ? { tags: options.tags } : {}),
    program_version: options.programVersion ?? "arca",
    summary: {
      backup_start: formatTime(started),
      backup_end: formatTime(new Date()),
      ...archiver.counts,
      data_blobs: stats.dataBlobs,
      tree_blobs: stats.treeBlobs,
      data_added: stats.addedBytes,
      data_added_packed: stats.storedBytes,
    },
  };
  const id = await repo.saveSnapshot(snapshot);
  return { id, snapshot, warnings: archiver.warnings };
}
