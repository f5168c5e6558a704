// A directory backup as a job (`arca fs backup` now, a volume in the node agent next): its
// parent is the given snapshot, or else the latest one of the same path, so unchanged files
// are not read again.
import { resolve } from "node:path";
import type { Id } from "../repo/layout.js";
import { backupDirectory, type BackupOptions, type BackupResult } from "../snapshot/archiver.js";
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
