// The restores recorded in a location: each is a small snapshot tagged `restore=<name>`.
import { ArcaError, messageOf } from "../common/errors.js";
import { snapshotsNamed, taggedName } from "../backup/layout.js";
import type { Id } from "../repo/layout.js";
import type { Repository } from "../repo/repository.js";
import { readFileAt, readJsonAt } from "../snapshot/reader.js";
import {
  RESTORE_JSON,
  RESTORE_LOG_JSONL,
  RESTORE_RESULTS_JSON,
  type RestoreRecord,
  type RestoreResults,
} from "./layout.js";

const readJson = <T>(repo: Repository, tree: Id, path: string, check: (v: unknown) => v is T) =>
  readJsonAt(repo, tree, path, check, "the restore's snapshot");

const isRecord = (v: unknown): v is RestoreRecord =>
  typeof v === "object" && v !== null && (v as RestoreRecord).kind === "Restore";
const isResults = (v: unknown): v is RestoreResults =>
  typeof v === "object" && v !== null && Array.isArray((v as RestoreResults).items);

export interface RestoreEntry {
  name: string;
  snapshot: Id;
  record?: RestoreRecord;
  problem?: string;
}

export async function listRestores(repo: Repository): Promise<RestoreEntry[]> {
  const out: RestoreEntry[] = [];
  for (const { id, snapshot } of await repo.listSnapshots()) {
    const name = taggedName(snapshot.tags, "restore");
    if (!name) continue;
    const entry: RestoreEntry = { name, snapshot: id };
    try {
      entry.record = await readJson(repo, snapshot.tree, RESTORE_JSON, isRecord);
    } catch (err) {
      entry.problem = messageOf(err);
    }
    out.push(entry);
  }
  return out;
}

async function findRestore(repo: Repository, name: string) {
  const found = (await snapshotsNamed(repo, "restore", name)).at(-1);
  if (!found)
    throw new ArcaError(`no restore named ${name} in ${repo.location}`, {
      hint: "list them with `arca restore get`",
    });
  return found;
}

export async function describeRestore(
  repo: Repository,
  name: string,
): Promise<{ record: RestoreRecord; results: RestoreResults }> {
  const { snapshot } = await findRestore(repo, name);
  const [record, results] = await Promise.all([
    readJson(repo, snapshot.tree, RESTORE_JSON, isRecord),
    readJson(repo, snapshot.tree, RESTORE_RESULTS_JSON, isResults),
  ]);
  return { record, results };
}

export async function restoreLog(repo: Repository, name: string): Promise<Buffer> {
  const { snapshot } = await findRestore(repo, name);
  const raw = await readFileAt(repo, snapshot.tree, RESTORE_LOG_JSONL);
  if (!raw) throw new ArcaError(`${RESTORE_LOG_JSONL} is missing from restore ${name}`);
  return raw;
}
