// `repo check`: the structure (every indexed pack exists with the size its index entry adds up
// to, every snapshot's trees load, every referenced blob is indexed) and, with readData, every byte: each pack hashes to its name,
// its header matches the index, and each blob authenticates, decompresses and hashes to its ID.
import { messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { fileKey, contentId, shortId, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import { decodeHeader } from "./pack.js";
import { readPackHeader } from "./repair-index.js";
import { listPacks, type Repository } from "./repository.js";

export interface CheckResult {
  errors: string[];
  /** Not damage, but worth knowing (packs nobody indexed, from an interrupted backup). */
  notes: string[];
  /** What to run about the errors found. */
  hints: string[];
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
  const stored = await listPacks(repo.store, signal);
  let gone = 0;
  for (const pack of repo.index.packIds()) {
    const size = stored.get(pack);
    const expected = repo.index.packSize(pack);
    if (size === undefined) {
      gone++;
      result.errors.push(`pack ${shortId(pack)} is in the index but missing from storage`);
    } else if (size !== expected)
      result.errors.push(
        `pack ${shortId(pack)}: ${size} bytes in storage, but its index entry adds up to ${expected} (truncated or damaged)`,
      );
  }
  if (gone)
    result.hints.push(
      `${gone} pack(s) are missing from storage: put back a copy if there is one; otherwise prune says which snapshots need them, and \`arca repo repair index\` finds any other copy of their blobs`,
    );

  // Blobs that snapshots need and the index lacks: a pack no index lists may hold them.
  const lacking = new Set<Id>();
  let treesLacking = 0;
  const seen = new Set<Id>();
  const walk = async (tree: Id, path: string): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    if (!repo.index.has(tree)) {
      lacking.add(tree);
      treesLacking++;
      result.errors.push(`tree ${shortId(tree)} (${path || "/"}) is not in the index`);
      return;
    }
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
          if (repo.index.has(blob)) continue;
          lacking.add(blob);
          result.errors.push(`${at}: data blob ${shortId(blob)} is not in the index`);
        }
      }
    }
  };
  const { snapshots, unreadable } = await repo.readSnapshots().catch((err: unknown) => {
    result.errors.push(`listing snapshots: ${messageOf(err)}`);
    return { snapshots: [], unreadable: [] };
  });
  for (const u of unreadable)
    result.errors.push(`snapshot file ${fileKey("snapshots", u.id)} cannot be read: ${u.error}`);
  for (const { id, snapshot } of snapshots) {
    result.snapshots++;
    await walk(snapshot.tree, `snapshot ${shortId(id)}`);
  }

  let holding = 0;
  for (const [pack, size] of stored) {
    if (repo.index.hasPack(pack)) continue;
    // Only when the index holds everything the snapshots need is an unindexed pack garbage.
    if (lacking.size === 0) {
      result.notes.push(
        `pack ${shortId(pack)} is not in any index (left by an interrupted backup; prune removes it)`,
      );
      continue;
    }
    let needed: number;
    try {
      needed = (await readPackHeader(repo, pack, size, signal)).filter((b) => lacking.has(b.id)).length;
    } catch (err) {
      result.errors.push(
        `pack ${shortId(pack)} is not in any index, and its header cannot be read: ${messageOf(err)}`,
      );
      continue;
    }
    if (needed > 0) holding++;
    result.notes.push(
      needed > 0
        ? `pack ${shortId(pack)} is not in any index but holds ${needed} blob(s) that snapshots need`
        : treesLacking
          ? `pack ${shortId(pack)} is not in any index; it may hold blobs below the trees the index lacks`
          : `pack ${shortId(pack)} is not in any index and holds no blob that snapshots need (prune removes it once the index is complete)`,
    );
  }
  if (lacking.size > 0) {
    result.hints.push(
      `the index lacks ${lacking.size} blob(s) that snapshots need` +
        (holding ? `, and ${holding} pack(s) that no index lists hold some of them` : "") +
        ": run `arca repo repair index` to rebuild the index from the packs, then check again (what is still lacking then is in no pack: the snapshots that need it have lost data); prune refuses until the index is complete",
    );
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
  const result: CheckResult = { errors: [], notes: [], hints: [], snapshots: 0, trees: 0, packsRead: 0 };
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
