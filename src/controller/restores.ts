// Restore objects: New → (FailedValidation | InProgress → Completed | PartiallyFailed | Failed),
// reading the named Backup from its location. A dry run changes nothing in the cluster.
import { describeError } from "../common/errors.js";
import { restoreSpecOf } from "../api/convert.js";
import { condition } from "../api/meta.js";
import { API_VERSION, LABELS } from "../api/names.js";
import type { BackupLocation } from "../api/location.js";
import type { Restore, RestoreStatus } from "../api/restore.js";
import { restoreJob } from "../jobs/restore.js";
import type { RestoreSpec as EngineSpec } from "../restore/spec.js";
import type { ControllerContext } from "./context.js";
import { runWork } from "./work.js";

export class RestoreReconciler {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(name: string): Promise<number | void> {
    const { ctx } = this;
    const restore = ctx.caches.restores.get(name);
    if (!restore || (restore.status?.phase ?? "New") !== "New" || this.running.has(name)) return;
    const problems: string[] = [];
    let spec: EngineSpec | undefined;
    try {
      spec = restoreSpecOf(restore.spec);
    } catch (err) {
      problems.push(describeError(err));
    }
    const backup = ctx.caches.backups.get(restore.spec.backupName);
    const phase = backup?.status?.phase;
    if (!backup)
      problems.push(`Backup ${restore.spec.backupName} does not exist in namespace ${ctx.config.namespace}`);
    else if (phase !== "Completed" && phase !== "PartiallyFailed")
      problems.push(
        `Backup ${restore.spec.backupName} is ${phase ?? "New"}; only Completed or PartiallyFailed backups restore`,
      );
    const locationName = backup?.metadata.labels?.[LABELS.location] ?? backup?.spec.storageLocation;
    const location = backup ? ctx.location(locationName) : undefined;
    if (backup && !location)
      problems.push(
        `the location of Backup ${backup.metadata.name} (${locationName ?? "default"}) does not exist`,
      );
    if (problems.length || !spec || !location)
      return this.finish(restore, { phase: "FailedValidation", validationErrors: problems });
    if (this.running.size >= ctx.config.concurrentRestores) return 2000;
    // The cache may lag behind a run that just finished here: only a fresh read may start one.
    if (((await this.ctx.objects.get("Restore", name))?.status?.phase ?? "New") !== "New") return;
    const run = ctx
      .quietly(`restore ${name}`, () => this.run(restore, spec, location))
      .finally(() => {
        this.running.delete(name);
        ctx.metrics.inProgress.set({ kind: "restore" }, this.running.size);
        for (const r of ctx.caches.restores.list())
          if ((r.status?.phase ?? "New") === "New") ctx.queues.restores.add(r.metadata.name);
      });
    this.running.set(name, run);
    ctx.metrics.inProgress.set({ kind: "restore" }, this.running.size);
  }

  private async run(restore: Restore, spec: EngineSpec, location: BackupLocation): Promise<void> {
    const { ctx } = this;
    const name = restore.metadata.name;
    const started = new Date();
    await ctx.objects.patch("Restore", name, { metadata: { labels: { [LABELS.backup]: spec.backup } } });
    await ctx.objects.setStatus("Restore", name, {
      phase: "InProgress",
      startTimestamp: started.toISOString(),
    });
    ctx.event(restore, "Normal", "Started", `restoring from backup ${spec.backup}`);
    const status = await runWork<RestoreStatus>(ctx, {
      kind: "restore",
      owner: { apiVersion: API_VERSION, kind: "Restore", metadata: restore.metadata },
      location,
      create: false,
      report: (c) =>
        ctx.objects.setStatus("Restore", name, {
          progress: { itemsRestored: c.files, totalItems: c.totalFiles },
          warnings: c.warnings,
        }),
      job: async (run) => {
        const outcome = await restoreJob({ name, spec, dryRun: restore.spec.dryRun ?? false })(run);
        const s = outcome.record.status;
        ctx.metrics.restoreItems.inc(s.counts.created + s.counts.updated);
        const status: RestoreStatus = {
          phase: s.phase,
          progress: { itemsRestored: s.counts.created + s.counts.updated, totalItems: s.counts.total },
          warnings: s.counts.warnings,
          errors: s.counts.failed,
          ...(outcome.snapshot ? { snapshotID: outcome.snapshot.toString() } : {}),
          ...(s.reasons.length && s.phase !== "Completed" ? { failureReason: s.reasons.join("; ") } : {}),
        };
        return { status, results: outcome.results };
      },
    });
    ctx.metrics.restoreDuration.observe((Date.now() - started.getTime()) / 1000);
    await this.finish(restore, status);
  }

  private async finish(restore: Restore, status: RestoreStatus): Promise<void> {
    await this.ctx.objects.setStatus("Restore", restore.metadata.name, {
      ...status,
      conditions: [
        condition(
          "Succeeded",
          status.phase === "Completed",
          status.phase ?? "Unknown",
          status.failureReason ?? status.validationErrors?.join("; "),
        ),
      ],
    });
    this.ctx.metrics.restores.inc({ phase: status.phase });
    const detail =
      status.failureReason ??
      status.validationErrors?.join("; ") ??
      `${status.progress?.itemsRestored ?? 0} items`;
    this.ctx.event(
      restore,
      status.phase === "Completed" ? "Normal" : "Warning",
      status.phase ?? "Unknown",
      detail,
    );
  }

  async drain(): Promise<void> {
    await Promise.allSettled(this.running.values());
  }
}
