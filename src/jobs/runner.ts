// Runs one piece of engine work (a backup, a restore, a directory backup) the same way
// wherever it runs: the repository opens while the cluster's access loads, the cluster
// client and every request stop with the abort signal, a lock held exclusively elsewhere is
// waited out when the caller can wait, the log is kept where the caller says, and the
// repository and the client are closed however the work ends. The engines take and release
// their own repository locks.
import { setTimeout as sleep } from "node:timers/promises";
import { describeError, messageOf } from "../common/errors.js";
import { capturingLogger, createLogger, type Logger } from "../common/log.js";
import type { Progress } from "../common/progress.js";
import { KubeClient } from "../kube/client.js";
import { LockedError } from "../repo/lock.js";
import { Repository } from "../repo/repository.js";
import { openLocation, type LocationSource } from "./location.js";

/** What a KubeClient is made from: a loaded kubeconfig, or another client's access. */
export type ClusterAccess = ConstructorParameters<typeof KubeClient>[0];

export interface JobLog<T> {
  /** Lines at this level and above go to stderr as they are written ("silent": none). */
  echoLevel: string;
  /** Fields on every line: which run it is, when several share a process. */
  fields?: Record<string, unknown>;
  /**
   * Receives every line of the job (info and above) once it has ended, with its outcome
   * (undefined when it failed). Without it only the echo is written.
   */
  keep?(log: Buffer, outcome: T | undefined): Promise<void>;
}

export interface JobInputs<T> {
  /** Where the repository is and how to open it; or one already open, which its owner closes. */
  location: LocationSource | Repository;
  /** Make a repository where there is none (see OpenLocationOptions.create). */
  create?: boolean | Promise<unknown>;
  /** Told once a repository was made for the job. */
  created?(repo: Repository): void;
  /** --no-lock: take no lock and write nothing. */
  noLock?: boolean;
  /** The repository's notices (a stale lock removed, a damaged snapshot skipped); the log by default. */
  warn?(message: string): void;
  /** The cluster the engine works on, if it needs one. */
  cluster?: ClusterAccess | Promise<ClusterAccess>;
  log: JobLog<T>;
  progress: Progress & { done?(): void; settled?(): Promise<void> };
  signal: AbortSignal;
  /** How long to wait while the repository is locked exclusively; 0 fails at once, naming the holder. */
  lockWaitMs?: number;
  /** Said of a failure after the signal aborted, e.g. "the controller stopped during the backup". */
  abortedBecause?: string;
}

export interface JobContext {
  /** A promise, so that an engine can survey the cluster while the repository opens. */
  repo: Promise<Repository>;
  /** The job's cluster client; throws if the job was given no cluster. */
  client(): KubeClient;
  logger: Logger;
  progress: Progress;
  signal: AbortSignal;
}

export type Job<T> = (ctx: JobContext) => Promise<T>;

/** A failure as the job's log and a Failed status say it. */
export function failureReason(err: unknown, signal: AbortSignal, abortedBecause?: string): string {
  return signal.aborted && abortedBecause ? `${abortedBecause} (${describeError(err)})` : describeError(err);
}

export async function runJob<T>(inputs: JobInputs<T>, job: Job<T>): Promise<T> {
  const { signal, progress, log } = inputs;
  const captured = log.keep ? capturingLogger(log.echoLevel) : undefined;
  const base = captured?.logger ?? createLogger({ level: log.echoLevel });
  const logger = log.fields ? base.child(log.fields) : base;
  const repo = openRepo(inputs, logger);
  repo.catch(() => undefined); // seen by the job, or dropped when the cluster fails first
  let client: KubeClient | undefined;
  let outcome: T | undefined;
  try {
    if (inputs.cluster !== undefined)
      client = new KubeClient(await inputs.cluster, {
        signal,
        onRetry: (what, err, delayMs) =>
          logger.warn({ delayMs }, `${what}: retrying after ${messageOf(err)}`),
      });
    const cluster = client;
    const ctx: JobContext = {
      repo,
      client: () => {
        if (!cluster) throw new Error("this job was given no cluster");
        return cluster;
      },
      logger,
      progress,
      signal,
    };
    outcome = await waitingForLock(
      signal,
      inputs.lockWaitMs ?? 0,
      (message) => logger.info({}, `waiting: ${message}`),
      () => job(ctx),
    );
    return outcome;
  } catch (err) {
    // The CLI prints the error itself; a kept log must say why the job ended.
    if (captured) logger.error({}, failureReason(err, signal, inputs.abortedBecause));
    throw err;
  } finally {
    client?.close();
    if (!(inputs.location instanceof Repository)) (await repo.catch(() => undefined))?.close();
    await progress.settled?.();
    progress.done?.();
    if (captured && log.keep) await log.keep(captured.text(), outcome);
  }
}

async function openRepo<T>(inputs: JobInputs<T>, logger: Logger): Promise<Repository> {
  if (inputs.location instanceof Repository) return inputs.location;
  const opened = await openLocation(inputs.location, {
    create: inputs.create,
    noLock: inputs.noLock,
    signal: inputs.signal,
    logger,
    warn: inputs.warn ?? ((message) => logger.warn({}, message)),
  });
  if (opened.created) {
    logger.info({}, `initialized a new repository at ${opened.repo.location}`);
    inputs.created?.(opened.repo);
  }
  return opened.repo;
}

/**
 * Runs `op`, waiting while someone holds the repository exclusively (a prune, here or in
 * another cluster): the engines take their lock before they write anything, so starting
 * again is safe. Gives up after `maxMs` with the lock's own message.
 */
export async function waitingForLock<T>(
  signal: AbortSignal,
  maxMs: number,
  onWait: (message: string) => void,
  op: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof LockedError) || Date.now() - started >= maxMs || signal.aborted) throw err;
      onWait(err.message);
      await sleep(3000, undefined, { signal });
    }
  }
}
