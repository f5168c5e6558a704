// Trees built from memory rather than a directory: (path, bytes) entries become files, and a
// subtree written elsewhere (by a node agent, say) is grafted in as a directory by its ID.
// The resource backup writes its snapshot this way.
import { ArcaError } from "../common/errors.js";
import type { Id } from "../repo/layout.js";
import { MODE_DIR, type Node, type Tree } from "../repo/model.js";
import type { Repository } from "../repo/repository.js";
import { formatTime } from "../repo/time.js";
import { FastCdc } from "./fastcdc.js";

export type VirtualEntry = { path: string; data: Uint8Array } | { path: string; subtree: Id };

interface Dir {
  files: Map<string, Uint8Array>;
  dirs: Map<string, Dir>;
  grafts: Map<string, Id>;
}

const newDir = (): Dir => ({ files: new Map(), dirs: new Map(), grafts: new Map() });

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

/** Writes the tree and returns its ID. Directories are implied by the paths. */
export async function writeVirtualTree(
  repo: Repository,
  entries: Iterable<VirtualEntry>,
  options: VirtualTreeOptions = {},
): Promise<Id> {
  const root = newDir();
  for (const entry of entries) {
    const parts = components(entry.path);
    const name = parts.pop() as string;
    let dir = root;
    for (const part of parts) {
      if (dir.files.has(part) || dir.grafts.has(part))
        throw new ArcaError(`virtual tree: ${entry.path} is inside a file or graft`);
      let next = dir.dirs.get(part);
      if (!next) dir.dirs.set(part, (next = newDir()));
      dir = next;
    }
    if (dir.files.has(name) || dir.dirs.has(name) || dir.grafts.has(name))
      throw new ArcaError(`virtual tree: ${entry.path} given twice`);
    if ("data" in entry) dir.files.set(name, entry.data);
    else dir.grafts.set(name, entry.subtree);
  }
  const time = formatTime(options.time ?? new Date());
  const chunker = new FastCdc(repo.config.chunker_polynomial);
  const base = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 };

  const save = async (dir: Dir): Promise<Id> => {
    const nodes: Node[] = [];
    for (const [name, data] of dir.files) {
      const content: Id[] = [];
      for (let pos = 0; pos < data.length;) {
        const n = chunker.cut(data, pos, data.length);
        content.push((await repo.saveBlob("data", data.subarray(pos, pos + n))).id);
        pos += n;
      }
      nodes.push({
        name,
        type: "file",
        mode: 0o644,
        ...base,
        ...(data.length ? { size: data.length } : {}),
        links: 1,
        content,
      });
    }
    for (const [name, sub] of dir.dirs) {
      nodes.push({
        name,
        type: "dir",
        mode: (MODE_DIR | 0o755) >>> 0,
        ...base,
        content: null,
        subtree: await save(sub),
      });
    }
    for (const [name, subtree] of dir.grafts) {
      nodes.push({ name, type: "dir", mode: (MODE_DIR | 0o755) >>> 0, ...base, content: null, subtree });
    }
    const tree: Tree = { nodes };
    return repo.saveTree(tree);
  };
  return save(root);
}
