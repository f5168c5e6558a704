// A resource restore as a job. Its own module, so that `backup create` never loads the restore engine.
import { runRestore, type RestoreOutcome, type RestoreRequest } from "../restore/engine.js";
import type { Job } from "./runner.js";

export type RestoreJobRequest = Omit<RestoreRequest, "repo" | "client" | "progress" | "logger">;

export function restoreJob(req: RestoreJobRequest): Job<RestoreOutcome> {
  return async ({ repo, client, progress, logger }) =>
    runRestore({ ...req, repo: await repo, client: client(), progress, logger });
}
