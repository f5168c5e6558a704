// Schedule: a cron that makes Backups from a template, and keeps only what retention says.
import { Type, type Static } from "@sinclair/typebox";
import { BackupSpec } from "./backup.js";
import { Enum, Resource, Time } from "./meta.js";

const Count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

export const ScheduleSpec = Type.Object({
  schedule: Type.String({
    description: "cron (5 fields, or 6 with seconds first), @daily and friends, or @every 1h",
  }),
  timezone: Type.Optional(Type.String({ description: "IANA name, e.g. Asia/Shanghai; default UTC" })),
  template: BackupSpec,
  paused: Type.Optional(Type.Boolean()),
  skipImmediately: Type.Optional(
    Type.Boolean({ description: "wait for the next tick instead of backing up at once" }),
  ),
  retention: Type.Optional(
    Type.Object({
      keepLast: Count("the newest N backups"),
      keepDaily: Count("the newest backup of each of the last N days"),
      keepWeekly: Count("the newest backup of each of the last N weeks"),
      keepMonthly: Count("the newest backup of each of the last N months"),
    }),
  ),
});
export type ScheduleSpec = Static<typeof ScheduleSpec>;

export const SCHEDULE_PHASES = ["New", "Enabled", "FailedValidation"] as const;

export const ScheduleStatus = Type.Object({
  phase: Type.Optional(Enum(SCHEDULE_PHASES)),
  validationErrors: Type.Optional(Type.Array(Type.String())),
  lastBackup: Type.Optional(Time("when the newest backup was started")),
  lastBackupName: Type.Optional(Type.String()),
  lastSkipped: Type.Optional(Time("when a tick found the previous backup still running")),
  nextRun: Type.Optional(Time("when the next backup is due")),
  lastSuccessfulBackup: Type.Optional(Time("completion of the newest Completed backup")),
});
export type ScheduleStatus = Static<typeof ScheduleStatus>;

export const Schedule = Resource("Schedule", ScheduleSpec, ScheduleStatus);
export type Schedule = Static<typeof Schedule>;
