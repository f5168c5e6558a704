// Trees built from memory rather than a directory: (path, bytes) entries become files, and a
// subtree written elsewhere (by a node agent, say) is grafted in as a directory by its ID.
// The resource backup streams its items through a TreeBuilder: each file's bytes go into the
// repository as they arrive, and only names and blob IDs stay in memory until the end.
import { hostname } from "node:os";
import { ArcaError } from "../common/errors.js";
import { byteLength, joined, type Bytes } from "../common/bytes.js";
import { contentId, type Id } from "../repo/layout.js";
import { encodeNode, encodeTreeOf, fileNodeEncoder, MODE_DIR } from "../repo/model.js";
import type { Repository } from "../repo/repository.js";
import { formatTime } from "../repo/time.js";
import { FastCdc } from "./fastcdc.js";

export type VirtualEntry = { path: string; data: Uint8Array } | { path: string; subtree: Id };

interface StoredFile {
  size: number;
  /** One ID for the usual one-chunk file: an array apiece cost more than the rest of it. */
  content: Id | Id[];
}

interface Dir {
  files: Map<string, StoredFile>;
  dirs: Map<string, Dir>;
  grafts: Map<string, Id>;
  parent: Dir | undefined;
  /** Its tree's ID, from settle(), until something under it changes. */
  settled?: Id;
}

const newDir = (parent?: Dir): Dir => ({ files: new Map(), dirs: new Map(), grafts: new Map(), parent });

function components(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === "." || p === "..")) {
    throw new ArcaError(`invalid path in a virtual tree: ${JSON.stringify(path)}`);
  }
  return parts;
}

export interface VirtualTreeOptions {
  /** The time recorded on every node; now by default. */
  time?: Date;
}

export class TreeBuilder {
  private readonly root = newDir();
  private readonly chunker: FastCdc;
  /** Directories by the path that reached them. */
  private readonly placed = new Map<string, Dir>();
  /** Tree blobs that settle() sent to the repository, for finish() to wait for. */
  private readonly settling: Array<Promise<unknown>> = [];
  private encoders: ReturnType<TreeBuilder["nodeEncoders"]> | undefined;
  /** Bytes of file content added, before compression. */
  bytes = 0;
  files = 0;

  constructor(
    private readonly repo: Repository,
    private readonly options: VirtualTreeOptions = {},
  ) {
    this.chunker = new FastCdc(repo.config.chunker_polynomial);
  }

  /** The directory that holds `path`, created on the way, and the entry's own name. */
  private place(path: string): { dir: Dir; name: string } {
    // Items come a page at a time into the same directory: walk each directory's path once.
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    const known =
      slash > 0 && name !== "." && name !== ".." ? this.placed.get(path.slice(0, slash)) : undefined;
    if (known && name) return { dir: unsettled(known), name };
    const parts = components(path);
    const last = parts.pop() as string;
    let dir = this.root;
    for (const part of parts) {
      if (dir.files.has(part) || dir.grafts.has(part))
        throw new ArcaError(`virtual tree: ${path} is inside a file or graft`);
      let next = dir.dirs.get(part);
      if (!next) unsettled(dir).dirs.set(part, (next = newDir(dir)));
      dir = next;
    }
    if (slash > 0) this.placed.set(path.slice(0, slash), dir);
    return { dir: unsettled(dir), name: last };
  }

  has(path: string): boolean {
    const parts = components(path);
    const name = parts.pop() as string;
    let dir: Dir | undefined = this.root;
    for (const part of parts) if (!(dir = dir.dirs.get(part))) return false;
    return dir.files.has(name) || dir.dirs.has(name) || dir.grafts.has(name);
  }

  /** The names of the files and directories right under the directory `path`. */
  children(path: string): { files: string[]; dirs: string[] } | undefined {
    let dir: Dir | undefined = this.root;
    for (const part of path.split("/").filter(Boolean)) if (!(dir = dir.dirs.get(part))) return undefined;
    return { files: [...dir.files.keys()], dirs: [...dir.dirs.keys()] };
  }

  /**
   * Stores a file's bytes now and keeps its name; true if the path is new. With `replace`, a
   * later copy of the same path wins (a list that started over); otherwise a second copy is an
   * error. The answer comes at once, not as a promise, when the repository already holds the
   * content: a backup of an unchanged cluster then adds 100,000 objects without a promise
   * apiece. `data` is read before this returns or, when it returns a promise, before that
   * settles.
   */
  addFile(path: string, data: Bytes, { replace = false } = {}): boolean | Promise<boolean> {
    const { dir, name } = this.place(path);
    if (dir.dirs.has(name) || dir.grafts.has(name) || (!replace && dir.files.has(name)))
      throw new ArcaError(`virtual tree: ${path} given twice`);
    const size = byteLength(data);
    const previous = dir.files.get(name);
    this.bytes += size - (previous?.size ?? 0);
    if (!previous) this.files++;
    if (size > 0 && size <= this.chunker.sizes.min) {
      // One chunk, usually stored by an earlier backup: a hash and a lookup, nothing joined.
      const id = contentId(data);
      const known = this.repo.index.canonical(id);
      if (known) {
        dir.files.set(name, { size, content: known });
        return !previous;
      }
      const file: StoredFile = { size, content: [] };
      dir.files.set(name, file);
      return this.repo.saveBlob("data", data, id).then((saved) => {
        file.content = saved.id;
        unsettled(dir); // settled while the content was on its way: written again
        return !previous;
      });
    }
    const file: StoredFile = { size, content: [] };
    dir.files.set(name, file);
    return this.saveChunks(file, joined(data)).then(() => {
      unsettled(dir);
      return !previous;
    });
  }

  private async saveChunks(file: StoredFile, whole: Uint8Array): Promise<void> {
    const content: Id[] = [];
    for (let pos = 0; pos < whole.length;) {
      const n = this.chunker.cut(whole, pos, whole.length);
      content.push((await this.repo.saveBlob("data", whole.subarray(pos, pos + n))).id);
      pos += n;
    }
    file.content = content.length === 1 ? (content[0] as Id) : content;
  }

  graft(path: string, subtree: Id): void {
    const { dir, name } = this.place(path);
    if (dir.files.has(name) || dir.dirs.has(name) || dir.grafts.has(name))
      throw new ArcaError(`virtual tree: ${path} given twice`);
    dir.grafts.set(name, subtree);
  }

  /**
   * Writes the trees of the directory `path` now, while other work goes on (a resource type
   * whose list is done, while the others are still listing); finish() uses them unless
   * something is added under that directory first. Nothing happens if it does not exist.
   */
  settle(path: string): void {
    let dir: Dir | undefined = this.root;
    for (const part of components(path)) if (!(dir = dir.dirs.get(part))) return;
    this.save(dir);
  }

  /** Writes every directory's tree blob and returns the root's ID. */
  async finish(): Promise<Id> {
    const root = this.save(this.root);
    await Promise.all(this.settling.splice(0));
    return root;
  }

  /**
   * A directory's tree ID, its blob (and those of its subdirectories) sent to the repository.
   * The ID is the hash of the encoded tree, known at once: the store may still be under way,
   * and `settling` holds it until finish().
   */
  private save(dir: Dir): Id {
    if (dir.settled) return dir.settled;
    const { fileNode, dirNode } = (this.encoders ??= this.nodeEncoders());
    const nodes: Array<{ name: string; json: string }> = [];
    for (const [name, file] of dir.files) nodes.push({ name, json: fileNode(name, file.size, file.content) });
    for (const [name, sub] of dir.dirs) nodes.push(dirNode(name, this.save(sub)));
    for (const [name, subtree] of dir.grafts) nodes.push(dirNode(name, subtree));
    const tree = encodeTreeOf(nodes);
    const id = contentId(tree);
    const saving = this.repo.saveBlob("tree", tree, id);
    saving.catch(() => undefined); // awaited in finish()
    this.settling.push(saving);
    return (dir.settled = id);
  }

  private nodeEncoders() {
    const time = formatTime(this.options.time ?? new Date());
    const base = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 };
    return {
      fileNode: fileNodeEncoder({ mode: 0o644, ...base, links: 1 }),
      dirNode: (name: string, subtree: Id) => ({
        name,
        json: encodeNode({
          name,
          type: "dir",
          mode: (MODE_DIR | 0o755) >>> 0,
          ...base,
          content: null,
          subtree,
        }),
      }),
    };
  }
}

/** `dir`, about to change: its tree, and those of the directories above it, are written again. */
function unsettled(dir: Dir): Dir {
  for (let d: Dir | undefined = dir; d?.settled; d = d.parent) d.settled = undefined;
  return dir;
}

export interface CommitOptions {
  time: Date;
  tags: string[];
  hostname?: string;
  programVersion?: string;
}

/**
 * Writes the tree, the packs and the index, and only then the snapshot: the snapshot is the
 * commit point, so whatever fails before it leaves no snapshot behind.
 */
export async function commitTree(repo: Repository, tree: TreeBuilder, options: CommitOptions): Promise<Id> {
  const root = await tree.finish();
  await repo.flush();
  return repo.saveSnapshot({
    time: formatTime(options.time),
    tree: root,
    paths: ["/"],
    hostname: options.hostname ?? hostname(),
    tags: options.tags,
    ...(options.programVersion ? { program_version: options.programVersion } : {}),
  });
}

/** Writes the tree and returns its ID. Directories are implied by the paths. */
export async function writeVirtualTree(
  repo: Repository,
  entries: Iterable<VirtualEntry>,
  options: VirtualTreeOptions = {},
): Promise<Id> {
  const builder = new TreeBuilder(repo, options);
  for (const entry of entries) {
    if ("data" in entry) await builder.addFile(entry.path, entry.data);
    else builder.graft(entry.path, entry.subtree);
  }
  return builder.finish();
}
