// What every reconciler shares: the cluster, the caches, the queues, events and metrics.
import { messageOf } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { Backup } from "../api/backup.js";
import type { DeleteBackupRequest } from "../api/delete-request.js";
import type { BackupLocation } from "../api/location.js";
import type { ArcaObjects } from "../api/objects.js";
import type { Restore } from "../api/restore.js";
import type { Schedule } from "../api/schedule.js";
import type { KubeClient } from "../kube/client.js";
import { recordEvent, type EventSubject, type EventType } from "../kube/events.js";
import type { Informer } from "./informer.js";
import type { Metrics } from "./metrics.js";
import type { WorkQueue } from "./queue.js";

export interface ControllerConfig {
  namespace: string;
  /** Who holds the lease, for the log and the Lease object. */
  identity: string;
  concurrentBackups: number;
  concurrentRestores: number;
  /** The TTL of backups that set none. */
  defaultTtl: string;
  /** How often expired backups are looked for. */
  gcEveryMs: number;
  /** How often each location's backups are listed into Backup objects. */
  syncEveryMs: number;
  /** How often a location is checked when it does not say. */
  validationEveryMs: number;
  /** Where the controller's own log goes; runs keep theirs as well. */
  logLevel: string;
}

export interface Caches {
  locations: Informer<BackupLocation>;
  backups: Informer<Backup>;
  restores: Informer<Restore>;
  schedules: Informer<Schedule>;
  deletes: Informer<DeleteBackupRequest>;
}

export interface Queues {
  locations: WorkQueue;
  backups: WorkQueue;
  restores: WorkQueue;
  schedules: WorkQueue;
  deletes: WorkQueue;
  /** Keyed by location: listing its backups into Backup objects. */
  sync: WorkQueue;
}

export class ControllerContext {
  constructor(
    readonly config: ControllerConfig,
    readonly client: KubeClient,
    readonly objects: ArcaObjects,
    readonly caches: Caches,
    readonly queues: Queues,
    readonly metrics: Metrics,
    readonly logger: Logger,
    /** Aborts when the controller stops or loses the lease. */
    readonly signal: AbortSignal,
  ) {}

  event(about: EventSubject, type: EventType, reason: string, message: string): void {
    void recordEvent(this.client, "arca-controller", about, type, reason, message);
  }

  /** The named location, or the default one when no name is given. */
  location(name: string | undefined): BackupLocation | undefined {
    const all = this.caches.locations.list();
    return name ? all.find((l) => l.metadata.name === name) : all.find((l) => l.spec.default);
  }

  private readonly locks = new Map<string, Promise<unknown>>();

  /** Runs `work` after earlier work on the same location: sync and deletion must not interleave. */
  serialized<T>(location: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(location) ?? Promise.resolve();
    const run = before.catch(() => {}).then(work);
    this.locks.set(location, run);
    void run.catch(() => {}).finally(() => this.locks.get(location) === run && this.locks.delete(location));
    return run;
  }

  /** Logs and swallows: for background steps whose failure the next round retries. */
  async quietly(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!this.signal.aborted) this.logger.warn({ error: messageOf(err) }, `${what} failed; will retry`);
    }
  }
}
