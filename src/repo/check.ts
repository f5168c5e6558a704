// `repo check`: the structure (every indexed pack exists, every snapshot's trees load, every
// referenced blob is indexed) and, with readData, every byte: each pack hashes to its name,
// its header matches the index, and each blob authenticates, decompresses and hashes to its ID.
import { messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { fileKey, idFromKey, contentId, shortId, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import { decodeHeader } from "./pack.js";
import type { Repository } from "./repository.js";

export interface CheckResult {
  errors: string[];
  /** Not damage, but worth knowing (packs nobody indexed, from an interrupted backup). */
  notes: string[];
  snapshots: number;
  trees: number;
  packsRead: number;
}

export interface CheckOptions {
  readData?: boolean;
  progress?: Progress;
  signal?: AbortSignal;
}

async function checkStructure(repo: Repository, result: CheckResult, signal?: AbortSignal): Promise<void> {
  const stored = new Map<Id, number>();
  for await (const item of repo.store.list("data/", { signal })) {
    const id = idFromKey(item.key);
    if (id) stored.set(id, item.size);
  }
  for (const pack of repo.index.packIds()) {
    if (!stored.has(pack))
      result.errors.push(`pack ${shortId(pack)} is in the index but missing from storage`);
  }
  for (const pack of stored.keys()) {
    if (!repo.index.hasPack(pack))
      result.notes.push(
        `pack ${shortId(pack)} is not in any index (left by an interrupted backup; prune removes it)`,
      );
  }

  const seen = new Set<Id>();
  const walk = async (tree: Id, path: string): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    let nodes;
    try {
      nodes = (await repo.loadTree(tree, signal)).nodes;
    } catch (err) {
      result.errors.push(`tree ${shortId(tree)} (${path || "/"}): ${messageOf(err)}`);
      return;
    }
    result.trees++;
    for (const node of nodes) {
      const at = `${path}/${node.name}`;
      if (node.type === "dir") {
        if (!node.subtree) result.errors.push(`${at}: directory without a subtree`);
        else await walk(node.subtree, at);
      } else if (node.type === "file") {
        for (const blob of node.content ?? []) {
          if (!repo.index.has(blob))
            result.errors.push(`${at}: data blob ${shortId(blob)} is not in the index`);
        }
      }
    }
  };
  for (const { id, snapshot } of await repo.listSnapshots().catch((err: unknown) => {
    result.errors.push(`listing snapshots: ${messageOf(err)}`);
    return [];
  })) {
    result.snapshots++;
    await walk(snapshot.tree, `snapshot ${shortId(id)}`);
  }
}

async function readPack(
  repo: Repository,
  pack: Id,
  result: CheckResult,
  signal?: AbortSignal,
): Promise<void> {
  const what = `pack ${shortId(pack)}`;
  let bytes: Buffer;
  try {
    bytes = await repo.store.get(fileKey("data", pack), { signal });
  } catch (err) {
    result.errors.push(`${what}: ${messageOf(err)}`);
    return;
  }
  if (contentId(bytes) !== pack) {
    result.errors.push(`${what}: content does not match its ID (damaged in storage)`);
    return;
  }
  let blobs;
  try {
    blobs = decodeHeader(repo.key, bytes, bytes.length, what);
  } catch (err) {
    result.errors.push(messageOf(err));
    return;
  }
  for (const blob of blobs) {
    const indexed = repo.index.lookup(blob.id);
    if (!indexed) result.notes.push(`${what}: blob ${shortId(blob.id)} is not indexed`);
    try {
      repo.openBlob(
        blob.id,
        bytes.subarray(blob.offset, blob.offset + blob.length),
        blob.uncompressedLength,
        `blob ${shortId(blob.id)} in ${what}`,
      );
    } catch (err) {
      result.errors.push(messageOf(err));
    }
  }
  result.packsRead++;
}

export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  const result: CheckResult = { errors: [], notes: [], snapshots: 0, trees: 0, packsRead: 0 };
  const lock = await RepositoryLock.acquire(repo, true);
  try {
    await checkStructure(repo, result, options.signal);
    if (options.readData) {
      const progress = options.progress ?? noProgress;
      const packs = [...repo.index.packIds()];
      let next = 0;
      const worker = async () => {
        while (next < packs.length) {
          await readPack(repo, packs[next++] as Id, result, options.signal);
          progress.update({ files: result.packsRead, bytes: 0, totalFiles: packs.length });
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
    }
  } finally {
    await lock.release();
  }
  return result;
}
