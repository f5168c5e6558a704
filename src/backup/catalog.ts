// The backups in a location, read back from their snapshots: list, describe, download as a
// plain .tar.gz, and delete (forget, then prune). Everything here trusts nothing it reads:
// the /arca documents are checked as they come out of storage.
import { createGzip } from "node:zlib";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArcaError, messageOf } from "../common/errors.js";
import { fileKey, type Id } from "../repo/layout.js";
import { parseTimeNs } from "../repo/time.js";
import type { Snapshot } from "../repo/model.js";
import { pruneRepository, type PruneResult } from "../repo/prune.js";
import type { Repository } from "../repo/repository.js";
import { RepositoryLock } from "../repo/lock.js";
import { readFileAt, readJsonAt, readNode, walkFiles } from "../snapshot/reader.js";
import {
  BACKUP_JSON,
  LOG_JSONL,
  RESOURCE_LIST_JSON,
  RESOURCES_DIR,
  RESULTS_JSON,
  snapshotsNamed,
  taggedName,
  type BackupRecord,
  type BackupResults,
  type ResourceList,
} from "./layout.js";

export interface BackupEntry {
  name: string;
  snapshot: Id;
  snapshotTime: string;
  /** Absent when backup.json cannot be read; `problem` says why. */
  record?: BackupRecord;
  problem?: string;
}

const readJson = <T>(repo: Repository, tree: Id, path: string, check: (v: unknown) => v is T) =>
  readJsonAt(repo, tree, path, check, "the backup's snapshot");

const isRecord = (v: unknown): v is BackupRecord =>
  typeof v === "object" &&
  v !== null &&
  (v as BackupRecord).kind === "Backup" &&
  typeof (v as BackupRecord).status === "object";
const isResults = (v: unknown): v is BackupResults =>
  typeof v === "object" &&
  v !== null &&
  Array.isArray((v as BackupResults).warnings) &&
  Array.isArray((v as BackupResults).errors);
const isResourceList = (v: unknown): v is ResourceList =>
  typeof v === "object" && v !== null && Object.values(v).every((names) => Array.isArray(names));

export async function listBackups(repo: Repository): Promise<BackupEntry[]> {
  const out: BackupEntry[] = [];
  for (const { id, snapshot } of await repo.listSnapshots()) {
    const name = taggedName(snapshot.tags, "backup");
    if (!name) continue;
    const entry: BackupEntry = { name, snapshot: id, snapshotTime: snapshot.time };
    try {
      entry.record = await readJson(repo, snapshot.tree, BACKUP_JSON, isRecord);
    } catch (err) {
      entry.problem = messageOf(err);
    }
    out.push(entry);
  }
  return out;
}

export async function findBackup(repo: Repository, name: string): Promise<{ id: Id; snapshot: Snapshot }> {
  const found = await snapshotsNamed(repo, "backup", name);
  if (found.length === 0)
    throw new ArcaError(`no backup named ${name} in ${repo.location}`, {
      hint: "list them with `arca backup get`",
    });
  return found.at(-1) as { id: Id; snapshot: Snapshot };
}

export interface BackupDetails {
  name: string;
  snapshot: Id;
  record: BackupRecord;
  results: BackupResults;
  resources: ResourceList;
}

export async function describeBackup(repo: Repository, name: string): Promise<BackupDetails> {
  const { id, snapshot } = await findBackup(repo, name);
  const [record, results, resources] = await Promise.all([
    readJson(repo, snapshot.tree, BACKUP_JSON, isRecord),
    readJson(repo, snapshot.tree, RESULTS_JSON, isResults),
    readJson(repo, snapshot.tree, RESOURCE_LIST_JSON, isResourceList),
  ]);
  return { name, snapshot: id, record, results, resources };
}

/** The backup's own record, from a snapshot's tree. */
export function readBackupRecord(repo: Repository, tree: Id): Promise<BackupRecord> {
  return readJson(repo, tree, BACKUP_JSON, isRecord);
}

export async function backupLog(repo: Repository, name: string): Promise<Buffer> {
  const { snapshot } = await findBackup(repo, name);
  const raw = await readFileAt(repo, snapshot.tree, LOG_JSONL);
  if (!raw) throw new ArcaError(`${LOG_JSONL} is missing from backup ${name}`);
  return raw;
}

/** Writes the resource tree and the /arca documents as a gzipped tar, streaming. */
export async function downloadBackup(repo: Repository, name: string, out: Writable): Promise<number> {
  const { snapshot } = await findBackup(repo, name);
  // The nodes carry a fixed time (TREE_TIME); the files are as of the backup.
  const mtime = new Date(Number(parseTimeNs(snapshot.time) / 1_000_000n));
  // Loaded here: no other command needs tar-stream.
  const { pack: tarPack } = await import("tar-stream");
  const tar = tarPack();
  let files = 0;
  const writing = pipeline(tar, createGzip(), out);
  try {
    for (const dir of ["/arca", RESOURCES_DIR]) {
      for await (const { path, node } of walkFiles(repo, snapshot.tree, dir)) {
        const data = await readNode(repo, node);
        await new Promise<void>((resolve, reject) =>
          tar.entry(
            {
              name: path.slice(1),
              size: data.length,
              mode: 0o644,
              mtime,
            },
            data,
            (err) => (err ? reject(err) : resolve()),
          ),
        );
        files++;
      }
    }
    tar.finalize();
  } catch (err) {
    tar.destroy(err as Error);
    await writing.catch(() => {});
    throw err;
  }
  await writing;
  return files;
}

/** Forgets the backup's snapshot and prunes what only it used. */
export async function deleteBackup(
  repo: Repository,
  name: string,
): Promise<{ snapshot: Id; prune: PruneResult }> {
  const { id } = await findBackup(repo, name);
  const { prune } = await deleteBackups(repo, [name]);
  return { snapshot: id, prune };
}

/**
 * Forgets every snapshot of the named backups, then prunes once: deleting many backups costs
 * one pass over the packs, not one per backup. Names with no snapshot are reported, not errors.
 */
export async function deleteBackups(
  repo: Repository,
  names: string[],
): Promise<{ forgotten: Id[]; missing: string[]; prune: PruneResult }> {
  const wanted = new Set(names);
  const found = new Set<string>();
  const forgotten: Id[] = [];
  const lock = await RepositoryLock.acquire(repo, true);
  try {
    for (const { id, snapshot } of await repo.listSnapshots()) {
      const name = taggedName(snapshot.tags, "backup");
      if (!name || !wanted.has(name)) continue;
      await repo.store.delete(fileKey("snapshots", id));
      forgotten.push(id);
      found.add(name);
    }
  } finally {
    await lock.release();
  }
  return { forgotten, missing: names.filter((n) => !found.has(n)), prune: await pruneRepository(repo) };
}
