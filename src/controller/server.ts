// `arca server`: the controller. Every instance serves /metrics and probes; only the holder of
// the Lease works. Losing the lease ends the process (its engines' state cannot be handed
// over), and the Deployment starts a fresh candidate, as client-go's controllers do.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ArcaError, describeError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { apiResource, type KindName } from "../api/kinds.js";
import { ArcaObjects } from "../api/objects.js";
import type { KubeClient } from "../kube/client.js";
import { leadElection } from "../kube/lease.js";
import type { KubeObject } from "../kube/object.js";
import { BackupReconciler } from "./backups.js";
import { ControllerContext, type Caches, type ControllerConfig, type Queues } from "./context.js";
import { DeletionReconciler } from "./deletion.js";
import { collectGarbage } from "./gc.js";
import { serveHttp } from "./http.js";
import { Informer } from "./informer.js";
import { LocationReconciler } from "./locations.js";
import { Metrics } from "./metrics.js";
import { WorkQueue } from "./queue.js";
import { recoverInterruptedWork } from "./recovery.js";
import { RestoreReconciler } from "./restores.js";
import { ScheduleReconciler } from "./schedules.js";
import { SyncReconciler } from "./sync.js";

export const LEASE_NAME = "arca-controller";

export interface ServerOptions {
  client: KubeClient;
  config: Omit<ControllerConfig, "identity"> & { identity?: string };
  metricsAddress: string;
  logger: Logger;
  programVersion: string;
  leaseDurationMs?: number;
}

export const newIdentity = () => `${hostname()}_${process.pid}_${randomBytes(3).toString("hex")}`;

/** Runs until `signal` aborts (then returns) or the lease is lost (then throws). */
export async function runServer(o: ServerOptions, signal: AbortSignal): Promise<void> {
  const config: ControllerConfig = { ...o.config, identity: o.config.identity ?? newIdentity() };
  const metrics = new Metrics();
  let state = "waiting for the lease";
  let synced = false;
  const http = await serveHttp(o.metricsAddress, metrics, {
    ready: () => ({ ok: state !== "leading" || synced, detail: state }),
  });
  o.logger.info(
    { identity: config.identity, metrics: o.metricsAddress },
    "arca server started; waiting for the lease",
  );
  try {
    const { lost, stopped } = await leadElection(
      o.client,
      {
        namespace: config.namespace,
        name: LEASE_NAME,
        identity: config.identity,
        leaseDurationMs: o.leaseDurationMs,
      },
      signal,
    );
    state = "leading";
    metrics.leader.set(1);
    o.logger.info({ identity: config.identity }, "leading: the controller works");
    const working = AbortSignal.any([signal, lost]);
    try {
      await lead(o, config, metrics, working, () => (synced = true));
    } finally {
      metrics.leader.set(0);
      await stopped;
    }
    if (lost.aborted && !signal.aborted)
      throw new ArcaError(
        `lost the lease ${config.namespace}/${LEASE_NAME}; stopping so that another instance takes over`,
      );
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  } finally {
    http.close();
  }
}

async function lead(
  o: ServerOptions,
  config: ControllerConfig,
  metrics: Metrics,
  signal: AbortSignal,
  onSynced: () => void,
): Promise<void> {
  const { client, logger } = o;
  const objects = new ArcaObjects(client, config.namespace);
  const queues: Queues = {
    locations: new WorkQueue(),
    backups: new WorkQueue(),
    restores: new WorkQueue(),
    schedules: new WorkQueue(),
    deletes: new WorkQueue(),
    sync: new WorkQueue(),
  };
  const informer = <K extends KindName>(kind: K, onChange: (name: string) => void) =>
    new Informer({
      client,
      resource: apiResource(kind),
      namespace: config.namespace,
      parse: (object: KubeObject) => objects.parse(kind, object),
      onChange,
      logger,
    });
  const caches: Caches = {
    locations: informer("BackupLocation", (n) => (queues.locations.add(n), queues.sync.add(n))),
    backups: informer("Backup", (n) => queues.backups.add(n)),
    restores: informer("Restore", (n) => queues.restores.add(n)),
    schedules: informer("Schedule", (n) => queues.schedules.add(n)),
    deletes: informer("DeleteBackupRequest", (n) => queues.deletes.add(n)),
  };
  const ctx = new ControllerContext(config, client, objects, caches, queues, metrics, logger, signal);
  const backups = new BackupReconciler(ctx, o.programVersion);
  const restores = new RestoreReconciler(ctx);
  const locations = new LocationReconciler(ctx);
  const sync = new SyncReconciler(ctx);
  const schedules = new ScheduleReconciler(ctx);
  const deletes = new DeletionReconciler(ctx);
  const watching = Object.values(caches).map((c) => c.run(signal));
  await Promise.race([Promise.all(Object.values(caches).map((c) => c.synced)), aborted(signal)]);
  if (signal.aborted) return;
  // Before any worker runs: what an earlier instance left half done is settled first.
  await recoverInterruptedWork(ctx);
  onSynced();
  const workers = [
    work("locations", queues.locations, 2, (n) => locations.reconcile(n)),
    work("sync", queues.sync, 1, (n) => sync.reconcile(n)),
    work("backups", queues.backups, 2, (n) => backups.reconcile(n)),
    work("restores", queues.restores, 2, (n) => restores.reconcile(n)),
    work("schedules", queues.schedules, 1, (n) => schedules.reconcile(n)),
    work("deletes", queues.deletes, 1, (n) => deletes.reconcile(n)),
  ];
  const gc = (async () => {
    while (!signal.aborted) {
      await ctx.quietly("garbage collection", () => collectGarbage(ctx));
      await sleep(config.gcEveryMs, undefined, { signal }).catch(() => {});
    }
  })();
  await aborted(signal);
  for (const q of Object.values(queues)) q.shutdown();
  // Runs in flight see the signal, fail themselves with the reason, and write that down.
  await Promise.all([backups.drain(), restores.drain(), ...workers, gc, ...watching]);

  function work(
    kind: string,
    queue: WorkQueue,
    n: number,
    reconcile: (name: string) => Promise<number | void>,
  ) {
    return Promise.all(
      Array.from({ length: n }, async () => {
        for (let key = await queue.next(); key !== undefined; key = await queue.next()) {
          try {
            const after = await reconcile(key);
            queue.forget(key);
            if (after) queue.addAfter(key, after);
          } catch (err) {
            if (!signal.aborted)
              logger.warn({ kind, name: key, error: describeError(err) }, "reconcile failed; retrying");
            queue.addRateLimited(key);
          } finally {
            queue.done(key);
          }
        }
      }),
    );
  }
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
  );
