// `repo copy`: copies snapshots into another repository (another password, another store,
// another region), moving only the blobs the destination lacks. Every blob is authenticated
// on read and re-hashed on write, so what arrives is verified. Packs and their index are
// flushed after each snapshot, and a snapshot is written only once all it needs is there:
// an interrupted copy resumes where it stopped.
import { noProgress, type Progress } from "../common/progress.js";
import type { Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import type { Snapshot } from "./model.js";
import type { Repository } from "./repository.js";

export interface CopyResult {
  copied: Array<{ source: Id; target: Id }>;
  /** Source snapshots the destination already holds. */
  skipped: Id[];
  blobsCopied: number;
  bytesCopied: number;
}

export interface CopyOptions {
  /** Only these source snapshots; all by default. */
  snapshots?: Id[];
  progress?: Progress;
  signal?: AbortSignal;
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.tree === b.tree && a.time === b.time && a.paths.join("\0") === b.paths.join("\0");
}

export async function copySnapshots(
  source: Repository,
  target: Repository,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const sourceLock = await RepositoryLock.acquire(source, false);
  try {
    const targetLock = await RepositoryLock.acquire(target, false);
    try {
      return await copy(source, target, options);
    } finally {
      await targetLock.release();
    }
  } finally {
    await sourceLock.release();
  }
}

async function copy(source: Repository, target: Repository, options: CopyOptions): Promise<CopyResult> {
  const progress = options.progress ?? noProgress;
  const result: CopyResult = { copied: [], skipped: [], blobsCopied: 0, bytesCopied: 0 };
  const existing = await target.listSnapshots();
  const wanted = (await source.listSnapshots()).filter(
    ({ id }) => !options.snapshots || options.snapshots.includes(id),
  );

  const transfer = async (id: Id, type: "data" | "tree"): Promise<Buffer | undefined> => {
    if (target.index.has(id) && type === "data") return undefined;
    const data = await source.loadBlob(id, options.signal);
    if (!target.index.has(id)) {
      const saved = await target.saveBlob(type, data);
      if (saved.added) {
        result.blobsCopied++;
        result.bytesCopied += data.length;
        progress.update({ files: result.copied.length, bytes: result.bytesCopied });
      }
    }
    return data;
  };
  const seen = new Set<Id>();
  const walk = async (tree: Id): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    // Trees are read even when the target has them: their content lists may still be missing
    // there after an interrupted copy.
    const raw = (await transfer(tree, "tree")) as Buffer;
    const nodes = (
      JSON.parse(raw.toString("utf8")) as { nodes: Array<{ subtree?: Id; content?: Id[] | null }> }
    ).nodes;
    for (const node of nodes) {
      for (const blob of node.content ?? []) if (!target.index.has(blob)) await transfer(blob, "data");
      if (node.subtree) await walk(node.subtree);
    }
  };

  for (const { id, snapshot } of wanted) {
    const original = snapshot.original ?? id;
    if (existing.some(({ snapshot: t }) => t.original === original || sameSnapshot(t, snapshot))) {
      result.skipped.push(id);
      continue;
    }
    await walk(snapshot.tree);
    await target.flush();
    const copiedId = await target.saveSnapshot({ ...snapshot, original });
    result.copied.push({ source: id, target: copiedId });
  }
  return result;
}
