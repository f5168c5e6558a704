// Schedules: at each due tick a Backup is made from the template, unless the previous one from
// this schedule still runs (that tick is skipped and said so). After each pass, retention
// asks for the deletion of what its keep-* counts no longer keep.
import { describeError } from "../common/errors.js";
import { backupSpecOf } from "../api/convert.js";
import { LABELS } from "../api/names.js";
import type { Schedule, ScheduleStatus } from "../api/schedule.js";
import type { ControllerContext } from "./context.js";
import { dueRuns, parseSchedule, type CronSchedule } from "./cron.js";
import { requestDeletion } from "./gc.js";
import { toForget } from "./retention.js";

/** 20260102-030405 in UTC: names sort by time, as Velero's do. */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "").slice(0, 14);

export class ScheduleReconciler {
  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(name: string, now = new Date()): Promise<number | void> {
    const { ctx } = this;
    // Read afresh: a stale lastBackup in the cache would make the same tick fire twice.
    const schedule = await ctx.objects.get("Schedule", name);
    if (!schedule) return;
    const problems: string[] = [];
    let cron: CronSchedule | undefined;
    try {
      cron = parseSchedule(schedule.spec.schedule, schedule.spec.timezone);
    } catch (err) {
      problems.push(describeError(err));
    }
    try {
      backupSpecOf(schedule.spec.template);
    } catch (err) {
      problems.push(`template: ${describeError(err)}`);
    }
    const locationName = schedule.spec.template.storageLocation;
    if (locationName && !ctx.location(locationName))
      problems.push(
        `template: BackupLocation ${locationName} does not exist in namespace ${ctx.config.namespace}`,
      );
    if (problems.length || !cron) {
      if (
        schedule.status?.phase !== "FailedValidation" ||
        String(schedule.status.validationErrors) !== String(problems)
      )
        await this.setStatus(schedule, { phase: "FailedValidation", validationErrors: problems });
      return;
    }
    await this.retain(schedule);
    if (schedule.spec.paused) {
      if (schedule.status?.phase !== "Enabled" || schedule.status.nextRun)
        await this.setStatus(schedule, { phase: "Enabled", validationErrors: [], nextRun: undefined });
      return;
    }
    const status = schedule.status ?? {};
    const last = [status.lastBackup, status.lastSkipped].filter(Boolean).map((t) => Date.parse(t as string));
    const lastRun = last.length ? new Date(Math.max(...last)) : undefined;
    const created = new Date(schedule.metadata.creationTimestamp ?? now.toISOString());
    // A new schedule backs up at once, as Velero's do, unless told to wait for its first tick.
    const first = !lastRun && !schedule.spec.skipImmediately;
    const tick = first ? { due: true, next: now } : dueRuns(cron, lastRun, created, now);
    let next = tick.next;
    const update: ScheduleStatus = { phase: "Enabled", validationErrors: [] };
    if (tick.due) {
      const running = ctx.caches.backups
        .list()
        .filter(
          (b) =>
            b.metadata.labels?.[LABELS.schedule] === name &&
            ["New", "InProgress", undefined].includes(b.status?.phase),
        );
      if (running.length) {
        update.lastSkipped = now.toISOString();
        ctx.event(
          schedule,
          "Warning",
          "Skipped",
          `backup ${running[0]?.metadata.name} from the previous tick still runs`,
        );
      } else {
        const backup = `${name}-${stamp(now)}`;
        await ctx.objects.create("Backup", backup, schedule.spec.template, { [LABELS.schedule]: name });
        update.lastBackup = now.toISOString();
        update.lastBackupName = backup;
        ctx.event(schedule, "Normal", "BackupCreated", `created backup ${backup}`);
      }
      next = cron.next(now);
    }
    update.nextRun = next.toISOString();
    await this.setStatus(schedule, update);
    return Math.max(500, next.getTime() - Date.now());
  }

  /** Forgets what the policy keeps no longer; only finished backups count, newest first. */
  private async retain(schedule: Schedule): Promise<void> {
    const { ctx } = this;
    const name = schedule.metadata.name;
    const done = ctx.caches.backups
      .list()
      .filter((b) => b.metadata.labels?.[LABELS.schedule] === name)
      .filter((b) => b.status?.phase === "Completed" || b.status?.phase === "PartiallyFailed")
      .map((b) => ({
        name: b.metadata.name,
        time: new Date(b.status?.completionTimestamp ?? b.metadata.creationTimestamp ?? 0),
      }));
    const newest = done.reduce<Date | undefined>((a, b) => (!a || b.time > a ? b.time : a), undefined);
    if (newest && schedule.status?.lastSuccessfulBackup !== newest.toISOString())
      await this.setStatus(schedule, { lastSuccessfulBackup: newest.toISOString() });
    if (!schedule.spec.retention) return;
    const { forget, reasons } = toForget(done, schedule.spec.retention, schedule.spec.timezone);
    for (const b of forget) {
      ctx.logger.info(
        { schedule: name, backup: b.name, kept: reasons.get(b.name) ?? [] },
        "retention deletes a backup",
      );
      await requestDeletion(ctx, b.name);
    }
  }

  private setStatus(schedule: Schedule, status: ScheduleStatus): Promise<unknown> {
    // A merge patch drops a field given as null: that is how nextRun is cleared.
    const patch = Object.fromEntries(Object.entries(status).map(([k, v]) => [k, v === undefined ? null : v]));
    return this.ctx.objects.setStatus("Schedule", schedule.metadata.name, patch as ScheduleStatus);
  }
}
