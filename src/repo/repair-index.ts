// `repo repair index`: a new index built from the packs themselves, as `restic repair index`
// (0.14: `rebuild-index`) builds it. Under the exclusive lock it
//   1. takes each pack whose size matches its index entry from the old index, and reads the
//      header of every other pack in data/ (all of them with readAllPacks),
//   2. writes a new index for every pack it could read, superseding the old index files,
//   3. only then deletes the old index files.
// It never deletes a pack: one whose header cannot be read is reported and left where it is.
import { messageOf } from "../common/errors.js";
import { noProgress, type Progress } from "../common/progress.js";
import { mapBounded } from "../common/slots.js";
import { isStorageError } from "../storage/index.js";
import { fileKey, shortId, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import { decodeHeader, MAX_HEADER_SIZE, type PackedBlob } from "./pack.js";
import { listIds, listPacks, type Repository } from "./repository.js";

export interface RepairIndexResult {
  /** Packs the new index lists. */
  packs: number;
  blobs: number;
  /** Packs whose header was read (not in the old index, of another size, or readAllPacks). */
  packsRead: number;
  /** Packs left out of the index because their header cannot be read; they stay in storage. */
  unreadable: Array<{ pack: Id; reason: string }>;
  /** Packs the old index listed that storage does not have: their blobs are gone. */
  missingPacks: Id[];
  /** Old index files that could not be read, replaced with the rest. */
  damagedIndexFiles: Array<{ file: Id; reason: string }>;
  indexFilesRemoved: number;
}

export interface RepairIndexOptions {
  /** Read every pack's header, not only those the old index does not describe. */
  readAllPacks?: boolean;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Header reads at once: each is one small ranged read. */
const HEADER_READS = 8;
/** The tail read first: the whole header of a pack of up to about 1,500 blobs. */
const HEADER_GUESS = 64 * 1024;

/** A pack's blobs, from its header alone (two small ranged reads at most). */
export async function readPackHeader(
  repo: Repository,
  pack: Id,
  size: number,
  signal?: AbortSignal,
): Promise<PackedBlob[]> {
  const what = `pack ${shortId(pack)}`;
  const tail = async (length: number) =>
    repo.store.get(fileKey("data", pack), { range: { offset: size - length, length }, signal });
  let bytes = await tail(Math.min(size, HEADER_GUESS));
  if (bytes.length >= 4) {
    const wanted = bytes.readUInt32LE(bytes.length - 4) + 4;
    if (wanted > bytes.length && wanted <= size && wanted <= MAX_HEADER_SIZE + 4) bytes = await tail(wanted);
  }
  return decodeHeader(repo.key, bytes, size, what);
}

export async function repairIndex(
  repo: Repository,
  options: RepairIndexOptions = {},
): Promise<RepairIndexResult> {
  const lock = await RepositoryLock.acquire(repo, true);
  try {
    return await repair(repo, options);
  } finally {
    await lock.release();
  }
}

async function repair(repo: Repository, options: RepairIndexOptions): Promise<RepairIndexResult> {
  const { signal } = options;
  const progress = options.progress ?? noProgress;
  // Listed before anything is written, so that only these files are removed at the end.
  const oldIndexes = await listIds(repo.store, "index", signal);
  const stored = await listPacks(repo.store, signal);
  const known = repo.index.packContents();

  const packs: Array<{ id: Id; blobs: PackedBlob[] }> = [];
  const toRead: Array<[Id, number]> = [];
  for (const [id, size] of stored) {
    const blobs = known.get(id);
    if (blobs && !options.readAllPacks && repo.index.packSize(id) === size) packs.push({ id, blobs });
    else toRead.push([id, size]);
  }
  const unreadable: RepairIndexResult["unreadable"] = [];
  let read = 0;
  await mapBounded(toRead, HEADER_READS, async ([id, size]) => {
    try {
      packs.push({ id, blobs: await readPackHeader(repo, id, size, signal) });
    } catch (err) {
      // A failing store is not a damaged pack: stop, and leave the old index as it is.
      if (isStorageError(err)) throw err;
      unreadable.push({ pack: id, reason: messageOf(err) });
      progress.warning(`pack ${shortId(id)}: ${messageOf(err)}; left in place, not indexed`);
    }
    progress.update({ files: ++read, bytes: 0, totalFiles: toRead.length });
  });

  await repo.writeIndex(packs, { supersedes: oldIndexes, signal });
  for (const id of oldIndexes) await repo.store.delete(fileKey("index", id), { signal });
  const damagedIndexFiles = [...repo.damagedIndexFiles].map(([file, reason]) => ({ file, reason }));
  await repo.syncIndex(); // this session reads through the new index from here on
  return {
    packs: packs.length,
    blobs: packs.reduce((n, p) => n + p.blobs.length, 0),
    packsRead: toRead.length - unreadable.length,
    unreadable,
    missingPacks: [...known.keys()].filter((id) => !stored.has(id)),
    damagedIndexFiles,
    indexFilesRemoved: oldIndexes.length,
  };
}
