// A resource backup as a job: the engine surveys the cluster while the repository opens.
import { runBackup, type BackupOutcome, type BackupRequest } from "../backup/engine.js";
import type { Job } from "./runner.js";

export type BackupJobRequest = Omit<BackupRequest, "repo" | "client" | "progress" | "logger">;

export function backupJob(req: BackupJobRequest): Job<BackupOutcome> {
  return ({ repo, client, progress, logger }) =>
    runBackup({ ...req, repo, client: client(), progress, logger });
}
