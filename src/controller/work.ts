// What a backup run and a restore run share in the controller, on top of src/jobs: the
// location's Secrets, a client and a repository that stop with the controller, a wait while
// the repository is locked, a Failed status with the reason for any error, and the log kept
// next to the object at the end.
import type { Progress } from "../common/progress.js";
import type { BackupLocation } from "../api/location.js";
import { saveLogs, type LoggedKind } from "../api/logs.js";
import { failureReason, runJob, type Job } from "../jobs/runner.js";
import type { ControllerContext } from "./context.js";
import { createsIn, locationSource } from "./repos.js";
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
  /** The engine's job, its outcome said as the object's status and the results kept with the log. */
  job: Job<{ status: S; results: unknown }>;
}

/** A backup waits this long for a prune elsewhere to finish before it fails. */
const LOCK_WAIT_MS = 15 * 60_000;

/** Runs the engine and returns the final status, Failed with the reason when anything threw. */
export async function runWork<S extends WorkStatus>(ctx: ControllerContext, work: Work<S>): Promise<S> {
  const name = work.owner.metadata.name;
  const abortedBecause = `the controller stopped during the ${work.kind}`;
  let status: S;
  try {
    status = await runJob<{ status: S; results: unknown }>(
      {
        location: locationSource({ client: ctx.client, namespace: ctx.config.namespace }, work.location),
        create: createsIn(work.location, work.create),
        cluster: ctx.client.access,
        log: {
          echoLevel: ctx.config.logLevel,
          // Several runs share the controller's log: every line names its own.
          fields: { [work.kind]: name },
          keep: (log, outcome) =>
            ctx.quietly(`keeping the log of ${work.kind} ${name}`, () =>
              saveLogs(ctx.client, ctx.config.namespace, work.kind, work.owner, {
                log,
                results: Buffer.from(JSON.stringify(outcome?.results ?? {}, null, 2)),
              }),
            ),
        },
        progress: statusProgress(work.report),
        signal: ctx.signal,
        lockWaitMs: LOCK_WAIT_MS,
        abortedBecause,
      },
      work.job,
    ).then((outcome) => outcome.status);
  } catch (err) {
    status = { phase: "Failed", failureReason: failureReason(err, ctx.signal, abortedBecause) } as S;
  }
  status.completionTimestamp = new Date().toISOString();
  return status;
}
