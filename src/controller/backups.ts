// Backup objects: New → (FailedValidation | InProgress → Completed | PartiallyFailed | Failed).
// The engine runs in this process; a slot limit keeps several from running at once beyond
// what the operator allowed, and the others wait in New.
import { describeError } from "../common/errors.js";
import { backupSpecOf } from "../api/convert.js";
import { condition } from "../api/meta.js";
import { ANNOTATIONS, API_VERSION, LABELS } from "../api/names.js";
import type { Backup, BackupStatus } from "../api/backup.js";
import type { BackupLocation } from "../api/location.js";
import { backupJob } from "../jobs/backup.js";
import type { BackupRecord } from "../backup/layout.js";
import type { Id } from "../repo/layout.js";
import { checkBackupName, parseDuration, type BackupSpec as EngineSpec } from "../backup/spec.js";
import type { ControllerContext } from "./context.js";
import { runWork } from "./work.js";

export class BackupReconciler {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly programVersion: string,
  ) {}

  /** Returns a delay after which to look again, when the backup waits for a slot. */
  async reconcile(name: string): Promise<number | void> {
    const backup = this.ctx.caches.backups.get(name);
    if (!backup || (backup.status?.phase ?? "New") !== "New" || this.running.has(name)) return;
    // Sync made it from a snapshot that exists already; its status is on the way.
    if (backup.metadata.annotations?.[ANNOTATIONS.synced]) return;
    const problems: string[] = [];
    let spec: EngineSpec | undefined;
    try {
      checkBackupName(name);
      spec = backupSpecOf(backup.spec, this.ctx.config.defaultTtl);
    } catch (err) {
      problems.push(describeError(err));
    }
    const location = this.ctx.location(backup.spec.storageLocation);
    if (!location)
      problems.push(
        backup.spec.storageLocation
          ? `BackupLocation ${backup.spec.storageLocation} does not exist in namespace ${this.ctx.config.namespace}`
          : `no BackupLocation is marked default in namespace ${this.ctx.config.namespace}; name one in spec.storageLocation`,
      );
    else if (location.spec.accessMode === "ReadOnly")
      problems.push(
        `BackupLocation ${location.metadata.name} is ReadOnly; back up into a ReadWrite location`,
      );
    if (problems.length || !spec || !location)
      return this.finish(backup, { phase: "FailedValidation", validationErrors: problems });
    if (location.status?.phase === "Unavailable")
      return this.finish(backup, {
        phase: "Failed",
        failureReason: `BackupLocation ${location.metadata.name} is unavailable: ${location.status.message ?? "no reason given"}`,
      });
    if (this.running.size >= this.ctx.config.concurrentBackups) return 2000;
    // The cache may lag behind a run that just finished here: only a fresh read may start one.
    if (((await this.ctx.objects.get("Backup", name))?.status?.phase ?? "New") !== "New") return;
    // A status write that fails for good leaves the backup InProgress; the next leader's
    // recovery settles it. It must not take the process down meanwhile.
    const run = this.ctx
      .quietly(`backup ${name}`, () => this.run(backup, spec, location))
      .finally(() => {
        this.running.delete(name);
        this.ctx.metrics.inProgress.set({ kind: "backup" }, this.running.size);
        // A slot is free: backups waiting in New get their turn.
        for (const b of this.ctx.caches.backups.list())
          if ((b.status?.phase ?? "New") === "New") this.ctx.queues.backups.add(b.metadata.name);
      });
    this.running.set(name, run);
    this.ctx.metrics.inProgress.set({ kind: "backup" }, this.running.size);
  }

  private async run(backup: Backup, spec: EngineSpec, location: BackupLocation): Promise<void> {
    const { ctx } = this;
    const name = backup.metadata.name;
    const started = new Date();
    const ttl = spec.ttl ? parseDuration(spec.ttl) : 0;
    await ctx.objects.patch("Backup", name, {
      metadata: { labels: { [LABELS.location]: location.metadata.name } },
      spec: { storageLocation: location.metadata.name },
    });
    await ctx.objects.setStatus("Backup", name, {
      phase: "InProgress",
      startTimestamp: started.toISOString(),
      ...(ttl ? { expiration: new Date(started.getTime() + ttl).toISOString() } : {}),
    });
    ctx.event(backup, "Normal", "Started", `backing up into ${location.metadata.name}`);
    const status = await runWork<BackupStatus>(ctx, {
      kind: "backup",
      owner: { apiVersion: API_VERSION, kind: "Backup", metadata: backup.metadata },
      location,
      create: true,
      report: (c) =>
        ctx.objects.setStatus("Backup", name, {
          progress: {
            itemsBackedUp: c.files,
            bytes: c.bytes,
            resourcesDone: c.stepsDone,
            resourcesTotal: c.stepsTotal,
          },
          warnings: c.warnings,
        }),
      job: async (run) => {
        const outcome = await backupJob({ name, spec, programVersion: this.programVersion })(run);
        const s = outcome.record.status;
        ctx.metrics.backupItems.inc(s.itemsBackedUp);
        ctx.metrics.backupBytes.inc(s.bytes);
        return { status: statusOfRecord(outcome.record, outcome.snapshot), results: outcome.results };
      },
    });
    ctx.metrics.backupDuration.observe((Date.now() - started.getTime()) / 1000);
    await this.finish(backup, status);
  }

  private async finish(backup: Backup, status: BackupStatus): Promise<void> {
    const { ctx } = this;
    const name = backup.metadata.name;
    // Written even while stopping: a backup must never stay InProgress for nothing.
    const ok = status.phase === "Completed";
    await ctx.objects.setStatus("Backup", name, {
      ...status,
      conditions: [
        condition(
          "Succeeded",
          ok,
          status.phase ?? "Unknown",
          status.failureReason ?? status.validationErrors?.join("; "),
        ),
      ],
    });
    const schedule = backup.metadata.labels?.[LABELS.schedule] ?? "";
    ctx.metrics.backups.inc({ phase: status.phase, schedule });
    if (status.phase === "Completed" && schedule)
      ctx.metrics.lastScheduleSuccess.set({ schedule }, Date.now() / 1000);
    const detail =
      status.failureReason ??
      status.validationErrors?.join("; ") ??
      `${status.progress?.itemsBackedUp ?? 0} items`;
    ctx.event(backup, status.phase === "Completed" ? "Normal" : "Warning", status.phase ?? "Unknown", detail);
    if (schedule) ctx.queues.schedules.add(schedule);
  }

  /** Waits for the runs in flight (they fail themselves when the signal aborts). */
  async drain(): Promise<void> {
    await Promise.allSettled(this.running.values());
  }
}

/** A finished backup's status, from the record its snapshot keeps (also how sync adopts one). */
export function statusOfRecord(record: BackupRecord, snapshot: Id): BackupStatus {
  const s = record.status;
  return {
    phase: s.phase === "Completed" ? "Completed" : "PartiallyFailed",
    startTimestamp: s.startTimestamp,
    completionTimestamp: s.completionTimestamp ?? s.startTimestamp,
    ...(s.expiration ? { expiration: s.expiration } : {}),
    snapshotID: snapshot.toString(),
    progress: {
      itemsBackedUp: s.itemsBackedUp,
      bytes: s.bytes,
      resourcesDone: s.resourceTypes,
      resourcesTotal: s.resourceTypes,
    },
    warnings: s.warnings,
    errors: s.errors,
  };
}
