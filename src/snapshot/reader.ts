// Reading files straight out of a snapshot's tree, without restoring it to disk: the backup
// catalog reads /arca/*.json this way, and the restore engine reads the objects.
import { ArcaError, messageOf } from "../common/errors.js";
import type { Id } from "../repo/layout.js";
import type { Node } from "../repo/model.js";
import type { Repository } from "../repo/repository.js";

/** The node at `path` ("/a/b" or components), or undefined when the path is not there. */
export async function nodeAt(
  repo: Repository,
  tree: Id,
  path: string | string[],
  signal?: AbortSignal,
): Promise<Node | undefined> {
  const parts = typeof path === "string" ? path.split("/").filter(Boolean) : path;
  let current: Node | undefined;
  let id: Id | undefined = tree;
  for (const name of parts) {
    if (!id) return undefined;
    current = (await repo.loadTree(id, signal)).nodes.find((n) => n.name === name);
    id = current?.subtree ?? undefined;
  }
  return current;
}

/** A file node's bytes, every blob authenticated. */
export async function readNode(repo: Repository, node: Node, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const blob of node.content ?? []) parts.push(await repo.loadBlob(blob, signal));
  return Buffer.concat(parts);
}

/** The bytes of the file at `path`, or undefined when there is none. */
export async function readFileAt(
  repo: Repository,
  tree: Id,
  path: string,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  const node = await nodeAt(repo, tree, path, signal);
  if (!node) return undefined;
  if (node.type !== "file")
    throw new ArcaError(`${path} in tree ${tree.slice(0, 8)} is a ${node.type}, not a file`);
  return readNode(repo, node, signal);
}

/** Every file below `dir`, depth first in name order, with its path relative to the tree root. */
export async function* walkFiles(
  repo: Repository,
  tree: Id,
  dir = "/",
  signal?: AbortSignal,
): AsyncGenerator<{ path: string; node: Node }> {
  const start = dir.split("/").filter(Boolean);
  let id: Id | undefined = tree;
  if (start.length > 0) {
    const node = await nodeAt(repo, tree, start, signal);
    if (!node || node.type !== "dir") return;
    id = node.subtree ?? undefined;
  }
  if (!id) return;
  const walk = async function* (subtree: Id, prefix: string): AsyncGenerator<{ path: string; node: Node }> {
    for (const node of (await repo.loadTree(subtree, signal)).nodes) {
      const path = `${prefix}/${node.name}`;
      if (node.type === "dir" && node.subtree) yield* walk(node.subtree, path);
      else if (node.type === "file") yield { path, node };
    }
  };
  yield* walk(id, start.length ? `/${start.join("/")}` : "");
}

/**
 * A JSON document from a snapshot's tree, checked against the shape its reader expects: what
 * comes out of storage is not trusted until it is. `owner` names the snapshot in messages.
 */
export async function readJsonAt<T>(
  repo: Repository,
  tree: Id,
  path: string,
  check: (v: unknown) => v is T,
  owner: string,
): Promise<T> {
  const raw = await readFileAt(repo, tree, path);
  if (!raw) throw new ArcaError(`${path} is missing from ${owner}`);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ArcaError(`${path} in ${owner} is not JSON: ${messageOf(err)}`);
  }
  if (!check(value)) throw new ArcaError(`${path} in ${owner} does not have the expected shape`);
  return value;
}
