// Directory backups and restores as jobs (`arca fs` now, a volume in the node agent next). A
// backup's parent is the given snapshot, or else the latest one of the same path, so unchanged
// files are not read again.
import { resolve } from "node:path";
import type { Id } from "../repo/layout.js";
import { backupDirectory, type BackupOptions, type BackupResult } from "../snapshot/archiver.js";
import { restoreTree, type RestoreOptions, type RestoreResult } from "../snapshot/restorer.js";
import type { Job } from "./runner.js";

export interface FsBackupRequest extends Omit<BackupOptions, "parent" | "progress" | "signal"> {
  dir: string;
  /** A snapshot ID, prefix or "latest"; the latest snapshot of the same path when not given. */
  parent?: string;
}

export type FsBackupOutcome = BackupResult & { parent?: Id };

export function fsBackupJob({ dir, parent: parentRef, ...options }: FsBackupRequest): Job<FsBackupOutcome> {
  return async ({ repo: opening, progress, signal }) => {
    const repo = await opening;
    const path = resolve(dir);
    const parent = parentRef
      ? (await repo.findSnapshot(parentRef)).id
      : (await repo.listSnapshots()).filter(({ snapshot }) => snapshot.paths.includes(path)).at(-1)?.id;
    const result = await backupDirectory(repo, path, { ...options, parent, progress, signal });
    return { ...result, parent };
  };
}

export interface FsRestoreRequest extends Omit<RestoreOptions, "progress" | "signal"> {
  /** A snapshot ID, prefix or "latest". */
  snapshot: string;
  target: string;
}

export type FsRestoreOutcome = RestoreResult & { id: Id };

/** A snapshot, or a path inside it (`include`), restored into a directory. */
export function fsRestoreJob({ snapshot: ref, target, ...options }: FsRestoreRequest): Job<FsRestoreOutcome> {
  return async ({ repo: opening, progress, signal }) => {
    const repo = await opening;
    const { id, snapshot } = await repo.findSnapshot(ref);
    return { id, ...(await restoreTree(repo, snapshot.tree, target, { ...options, progress, signal })) };
  };
}
