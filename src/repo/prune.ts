// `repo prune`: removes data that no snapshot references. Under the exclusive lock (so no
// writer is running; a writer's lock makes prune wait its turn), it
//   1. marks every blob reachable from a snapshot,
//   2. repacks the still-used blobs of packs that are mostly garbage,
//   3. writes a new index for everything kept, superseding the old ones,
//   4. only then deletes the old index files and the packs nothing uses any more.
// A crash between steps leaves extra files, never missing ones.
import { ArcaError, messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { fileKey, shortId, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import type { BlobLocation } from "./master-index.js";
import type { PackedBlob } from "./pack.js";
import { listIds, listPacks, type Repository } from "./repository.js";

export interface PruneResult {
  usedBlobs: number;
  unusedBlobs: number;
  packsDeleted: number;
  packsRepacked: number;
  bytesFreed: number;
  /** Packs the index lists that storage lacks, holding nothing a snapshot needs: the new
   * index leaves them out. */
  missingPacks: Id[];
  /** Partial files that writers killed half way left behind (a file store's temp files). */
  leftoversRemoved: number;
}

/** A partial file not written to for this long is a killed writer's: none takes that long. */
export const LEFTOVER_AGE_MS = 60 * 60_000;

export interface PruneOptions {
  /** A pack is repacked when more than this fraction of it is garbage. */
  maxUnused?: number;
  dryRun?: boolean;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Prune found that snapshots need blobs it cannot account for, and deleted nothing. */
export class IncompleteIndexError extends ArcaError {}

/** At most `max` short IDs, then how many more: a damaged repository may lack thousands. */
export function someIds(ids: Iterable<Id>, max = 5): string {
  const all = [...ids];
  const shown = all.slice(0, max).map(shortId).join(", ");
  return all.length > max ? `${shown} and ${all.length - max} more` : shown;
}

interface Needed {
  /** Every blob a snapshot needs, trees included. */
  used: Set<Id>;
  /** Needed blobs that `lacks`, each with the snapshots that need it. */
  lacking: Map<Id, Set<Id>>;
}

/**
 * Marks what the snapshots need. A tree that `lacks` is not read (it cannot be), and what
 * lies below it is unknown: it counts as one lacking blob. Each tree records what it lacks
 * below it, so a snapshot that shares a damaged subtree with another is named too.
 */
async function neededBlobs(
  repo: Repository,
  lacks: (blob: Id) => boolean,
  signal?: AbortSignal,
): Promise<Needed> {
  const used = new Set<Id>();
  const below = new Map<Id, Set<Id>>(); // only trees that lack something
  const walk = async (tree: Id): Promise<Set<Id> | undefined> => {
    if (used.has(tree)) return below.get(tree);
    used.add(tree);
    const lacking = new Set<Id>();
    if (lacks(tree)) lacking.add(tree);
    else {
      for (const node of (await repo.loadTree(tree, signal)).nodes) {
        if (node.type === "dir" && node.subtree)
          for (const blob of (await walk(node.subtree)) ?? []) lacking.add(blob);
        for (const blob of node.content ?? []) {
          used.add(blob);
          if (lacks(blob)) lacking.add(blob);
        }
      }
    }
    if (lacking.size === 0) return undefined;
    below.set(tree, lacking);
    return lacking;
  };
  const lacking = new Map<Id, Set<Id>>();
  for (const { id, snapshot } of await everySnapshot(repo)) {
    let missing;
    try {
      missing = await walk(snapshot.tree);
    } catch (err) {
      throw new ArcaError(
        `prune stopped before deleting anything: snapshot ${shortId(id)}: ${messageOf(err)}`,
        {
          hint: "run `arca repo check` to see what is damaged",
          cause: err,
        },
      );
    }
    for (const blob of missing ?? []) {
      const snapshots = lacking.get(blob) ?? new Set<Id>();
      snapshots.add(id);
      lacking.set(blob, snapshots);
    }
  }
  return { used, lacking };
}

/** Every snapshot, or a refusal: one whose file cannot be read may need any pack. */
async function everySnapshot(repo: Repository) {
  const { snapshots, unreadable } = await repo.readSnapshots();
  if (unreadable.length === 0) return snapshots;
  const files = unreadable.map((u) => fileKey("snapshots", u.id));
  throw new ArcaError(
    `prune refused, nothing was deleted: ${unreadable.length} snapshot file(s) cannot be read, and prune cannot tell which data they need: ` +
      unreadable.map((u) => `${fileKey("snapshots", u.id)} (${u.error})`).join("; "),
    {
      hint: `repair ${files.length > 1 ? "those files" : "that file"} (put back a good copy) or, if the snapshot is lost, remove ${files.join(", ")} from ${repo.location} yourself; then prune again`,
    },
  );
}

/** Refuses, naming what is lacking, when snapshots need blobs the index or storage lacks. */
function refuseIfLacking(repo: Repository, lacking: Map<Id, Set<Id>>): void {
  if (lacking.size === 0) return;
  const unindexed = [...lacking.keys()].filter((blob) => !repo.index.has(blob));
  const inGonePacks = [...lacking.keys()].filter((blob) => repo.index.has(blob));
  const snapshotsOf = (blobs: Id[]) => new Set(blobs.flatMap((b) => [...(lacking.get(b) ?? [])]));
  const reasons: string[] = [];
  if (unindexed.length) {
    const snapshots = snapshotsOf(unindexed);
    reasons.push(
      `the index is not complete: ${unindexed.length} blob(s) that ${snapshots.size} snapshot(s) need are in no index file ` +
        `(snapshots ${someIds(snapshots)}; blobs ${someIds(unindexed)}); the packs that hold them would have been deleted as unused`,
    );
  }
  if (inGonePacks.length) {
    const snapshots = snapshotsOf(inGonePacks);
    const packs = new Set(inGonePacks.map((b) => repo.index.lookup(b)?.pack as Id));
    reasons.push(
      `pack(s) ${someIds(packs)} are in the index but missing from storage, and ${snapshots.size} snapshot(s) ` +
        `need ${inGonePacks.length} blob(s) in them (snapshots ${someIds(snapshots)}; blobs ${someIds(inGonePacks)})`,
    );
  }
  throw new IncompleteIndexError(`prune refused, nothing was deleted: ${reasons.join("; and ")}`, {
    hint: unindexed.length
      ? "run `arca repo repair index` to rebuild the index from the packs themselves, then prune again; if prune still refuses, no pack holds those blobs: the snapshots named have lost data, so restore what you can from them, forget them, then prune"
      : "`arca repo repair index` finds any other copy of those blobs in the packs; if there is none, the snapshots named have lost data: restore what you can from them, forget them, then prune",
  });
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
  const stored = await listPacks(repo.store, signal);
  const contents = repo.index.packContents();
  const gone = new Set([...contents.keys()].filter((id) => !stored.has(id)));
  const { used, lacking } = await neededBlobs(
    repo,
    (blob) => {
      const at = repo.index.lookup(blob);
      return !at || gone.has(at.pack);
    },
    signal,
  );
  refuseIfLacking(repo, lacking);
  for (const id of gone)
    progress.warning(
      `pack ${shortId(id)} is in the index but missing from storage; no snapshot needs its blobs, so the new index leaves it out`,
    );

  const result: PruneResult = {
    usedBlobs: 0,
    unusedBlobs: 0,
    packsDeleted: 0,
    packsRepacked: 0,
    bytesFreed: 0,
    missingPacks: [...gone],
    leftoversRemoved: 0,
  };
  const keep: Array<{ id: Id; blobs: PackedBlob[] }> = [];
  const remove: Id[] = [];
  const repack: Id[] = [];
  // A used blob counts in the pack the index looks it up in; other copies of it are garbage.
  const usedIn = (pack: Id, blob: BlobLocation) =>
    used.has(blob.id) && repo.index.lookup(blob.id)?.pack === pack;
  for (const [id, blobs] of contents) {
    if (gone.has(id)) continue;
    const usedHere = blobs.filter((b) => usedIn(id, b));
    const size = blobs.reduce((n, b) => n + b.length, 0);
    const usedBytes = usedHere.reduce((n, b) => n + b.length, 0);
    result.usedBlobs += usedHere.length;
    result.unusedBlobs += blobs.length - usedHere.length;
    if (usedHere.length === blobs.length) keep.push({ id, blobs });
    else if (usedHere.length === 0) remove.push(id);
    else if (1 - usedBytes / size > maxUnused) repack.push(id);
    else keep.push({ id, blobs });
  }
  // Packs no index lists: left by an interrupted writer. No writer holds a lock now, and
  // every blob a snapshot needs is indexed elsewhere (refuseIfLacking).
  const orphans = [...stored.keys()].filter((id) => !contents.has(id));
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
    for (const blob of contents.get(id) ?? []) {
      if (!usedIn(id, blob) || fresh.has(blob.id)) continue;
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
  for (const leftover of (await repo.store.removeLeftovers?.({ olderThanMs: LEFTOVER_AGE_MS, signal })) ??
    []) {
    result.leftoversRemoved++;
    result.bytesFreed += leftover.size;
  }
  return result;
}
