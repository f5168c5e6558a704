// What a backup run and a restore run share in the controller: a log of their own, a client
// and a repository that stop with the controller, a wait while the repository is locked, a
// Failed status with the reason for any error, and the log kept next to the object at the end.
import { describeError } from "../common/errors.js";
import { capturingLogger, type Logger } from "../common/log.js";
import type { Progress } from "../common/progress.js";
import type { BackupLocation } from "../api/location.js";
import { saveLogs, type LoggedKind } from "../api/logs.js";
import type { KubeClient } from "../kube/client.js";
import type { Repository } from "../repo/repository.js";
import type { ControllerContext } from "./context.js";
import { openLocationRepository, waitingForLock } from "./repos.js";
import { statusProgress } from "./status-progress.js";

export interface WorkStatus {
  phase?: string;
  failureReason?: string;
  completionTimestamp?: string;
}

export interface Work<S extends WorkStatus> {
  kind: LoggedKind;
  owner: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } };
  location: BackupLocation;
  /** A location that holds no repository yet gets one (backups do; restores have nothing to read). */
  create: boolean;
  /** Writes progress into the object's status; throttled here. */
  report(counts: Parameters<Progress["update"]>[0]): Promise<unknown>;
  engine(run: { repo: Repository; client: KubeClient; logger: Logger; progress: Progress }): Promise<{
    status: S;
    results: unknown;
  }>;
}

/** Runs the engine and returns the final status, Failed with the reason when anything threw. */
export async function runWork<S extends WorkStatus>(ctx: ControllerContext, work: Work<S>): Promise<S> {
  const captured = capturingLogger(ctx.config.logLevel);
  // Several runs share the controller's log: every line names its own.
  const logger = captured.logger.child({ [work.kind]: work.owner.metadata.name });
  const text = captured.text;
  const progress = statusProgress(work.report);
  const client = ctx.engineClient();
  let status: S;
  let results: unknown = {};
  try {
    const repo = await openLocationRepository(
      { client: ctx.client, namespace: ctx.config.namespace, logger },
      work.location,
      { create: work.create, signal: ctx.signal },
    );
    try {
      ({ status, results } = await waitingForLock(
        ctx.signal,
        (m) => logger.info({}, `waiting: ${m}`),
        () => work.engine({ repo, client, logger, progress }),
      ));
    } finally {
      repo.close();
    }
  } catch (err) {
    const reason = ctx.signal.aborted
      ? `the controller stopped during the ${work.kind} (${describeError(err)})`
      : describeError(err);
    logger.error({}, reason);
    status = { phase: "Failed", failureReason: reason } as S;
  } finally {
    client.close();
  }
  await progress.settled();
  status.completionTimestamp = new Date().toISOString();
  await ctx.quietly(`keeping the log of ${work.kind} ${work.owner.metadata.name}`, () =>
    saveLogs(ctx.client, ctx.config.namespace, work.kind, work.owner, {
      log: text(),
      results: Buffer.from(JSON.stringify(results, null, 2)),
    }),
  );
  return status;
}
