// `repo prune`: removes data that no snapshot references. Under the exclusive lock (so no
// writer is running; a writer's lock makes prune wait its turn), it
//   1. marks every blob reachable from a snapshot,
//   2. repacks the still-used blobs of packs that are mostly garbage,
//   3. writes a new index for everything kept, superseding the old ones,
//   4. only then deletes the old index files and the packs nothing uses any more.
// A crash between steps leaves extra files, never missing ones.
import { noProgress, type Progress } from "../common/progress.js";
import { fileKey, idFromKey, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import type { BlobLocation } from "./master-index.js";
import type { PackedBlob } from "./pack.js";
import { listIds, type Repository } from "./repository.js";

export interface PruneResult {
  usedBlobs: number;
  unusedBlobs: number;
  packsDeleted: number;
  packsRepacked: number;
  bytesFreed: number;
}

export interface PruneOptions {
  /** A pack is repacked when more than this fraction of it is garbage. */
  maxUnused?: number;
  dryRun?: boolean;
  progress?: Progress;
  signal?: AbortSignal;
}

async function usedBlobs(repo: Repository, signal?: AbortSignal): Promise<Set<Id>> {
  const used = new Set<Id>();
  const walk = async (tree: Id): Promise<void> => {
    if (used.has(tree)) return;
    used.add(tree);
    for (const node of (await repo.loadTree(tree, signal)).nodes) {
      if (node.type === "dir" && node.subtree) await walk(node.subtree);
      for (const blob of node.content ?? []) used.add(blob);
    }
  };
  for (const { snapshot } of await repo.listSnapshots()) await walk(snapshot.tree);
  return used;
}

export async function pruneRepository(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const lock = await RepositoryLock.acquire(repo, true);
  try {
    return await prune(repo, options);
  } finally {
    await lock.release();
  }
}

async function prune(repo: Repository, options: PruneOptions): Promise<PruneResult> {
  const { signal } = options;
  const progress = options.progress ?? noProgress;
  const maxUnused = options.maxUnused ?? 0.2;
  const used = await usedBlobs(repo, signal);

  // Per pack: its blobs, and how many bytes of them are still used.
  const packs = new Map<Id, { blobs: BlobLocation[]; size: number; usedBytes: number }>();
  for (const blob of repo.index.entries()) {
    const p = packs.get(blob.pack) ?? { blobs: [], size: 0, usedBytes: 0 };
    p.blobs.push(blob);
    p.size += blob.length;
    if (used.has(blob.id)) p.usedBytes += blob.length;
    packs.set(blob.pack, p);
  }
  const stored = new Map<Id, number>();
  for await (const item of repo.store.list("data/", { signal })) {
    const id = idFromKey(item.key);
    if (id) stored.set(id, item.size);
  }

  const result: PruneResult = {
    usedBlobs: 0,
    unusedBlobs: 0,
    packsDeleted: 0,
    packsRepacked: 0,
    bytesFreed: 0,
  };
  const keep: Array<{ id: Id; blobs: PackedBlob[] }> = [];
  const remove: Id[] = [];
  const repack: Id[] = [];
  for (const [id, p] of packs) {
    const usedHere = p.blobs.filter((b) => used.has(b.id));
    result.usedBlobs += usedHere.length;
    result.unusedBlobs += p.blobs.length - usedHere.length;
    if (usedHere.length === p.blobs.length) keep.push({ id, blobs: p.blobs });
    else if (usedHere.length === 0) remove.push(id);
    else if (1 - p.usedBytes / p.size > maxUnused) repack.push(id);
    else keep.push({ id, blobs: p.blobs });
  }
  // Packs no index lists: left by an interrupted writer. No writer holds a lock now.
  const orphans = [...stored.keys()].filter((id) => !packs.has(id));
  if (options.dryRun) {
    return {
      ...result,
      packsDeleted: remove.length + orphans.length,
      packsRepacked: repack.length,
      bytesFreed: [...remove, ...orphans].reduce((n, id) => n + (stored.get(id) ?? 0), 0),
    };
  }

  // Repack: the used blobs of mostly-garbage packs go into new packs.
  const fresh = new Set(keep.flatMap((k) => k.blobs.map((b) => b.id)));
  for (const id of repack) {
    for (const blob of packs.get(id)?.blobs ?? []) {
      if (!used.has(blob.id) || fresh.has(blob.id)) continue;
      const data = await repo.loadBlob(blob.id, signal);
      await repo.writeBlobToNewPack(blob.type, data, blob.id);
      fresh.add(blob.id);
    }
    progress.update({ files: ++result.packsRepacked, bytes: 0 });
  }
  const newPacks = await repo.flushPacks();

  // A new index for all that stays, then the old indexes go, then the packs.
  const oldIndexes = await listIds(repo.store, "index", signal);
  await repo.writeIndex([...keep, ...newPacks.map((p) => ({ id: p.id, blobs: p.blobs }))], {
    supersedes: oldIndexes,
    signal,
  });
  for (const id of oldIndexes) await repo.store.delete(fileKey("index", id), { signal });
  for (const id of [...remove, ...repack, ...orphans]) {
    result.bytesFreed += stored.get(id) ?? 0;
    await repo.store.delete(fileKey("data", id), { signal });
    result.packsDeleted++;
  }
  return result;
}
