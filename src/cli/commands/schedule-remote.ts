// arca schedule create|get|describe|pause|unpause|delete: Schedule objects, from which the
// in-cluster controller makes Backups on a cron and keeps what the retention says. The flags
// are in schedule.ts.
import type { Command } from "commander";
import { backupFields } from "../../api/convert.js";
import { LABELS } from "../../api/names.js";
import type { ObjectOf } from "../../api/objects.js";
import { checkBackupName } from "../../backup/spec.js";
// The one import from src/controller: the pure cron parser, so that a bad schedule is refused
// here, before a Schedule exists, with the same rules the controller applies.
import { parseSchedule } from "../../controller/cron.js";
import {
  asOutput,
  checkTargetLocation,
  getOrList,
  mustGet,
  notFound,
  withArca,
  forOutput,
} from "../arca-cluster.js";
import { backupSpecFrom, type BackupSpecFlags } from "../backup-spec-flags.js";
import { describeScheduleText, retentionText, scheduleTable } from "../describe-schedule.js";
import { printOutput } from "../output.js";

export interface CreateFlags extends BackupSpecFlags {
  schedule: string;
  timezone?: string;
  location?: string;
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  paused?: boolean;
  skipImmediately?: boolean;
}

function scheduleSpec(flags: CreateFlags): ObjectOf<"Schedule">["spec"] {
  // Flags first: a conflicting filter or a bad cron is refused before anything is created.
  const template = backupFields(backupSpecFrom(flags));
  parseSchedule(flags.schedule, flags.timezone ?? "UTC");
  const retention = {
    ...(flags.keepLast !== undefined ? { keepLast: flags.keepLast } : {}),
    ...(flags.keepDaily !== undefined ? { keepDaily: flags.keepDaily } : {}),
    ...(flags.keepWeekly !== undefined ? { keepWeekly: flags.keepWeekly } : {}),
    ...(flags.keepMonthly !== undefined ? { keepMonthly: flags.keepMonthly } : {}),
  };
  return {
    schedule: flags.schedule,
    ...(flags.timezone ? { timezone: flags.timezone } : {}),
    template: { ...template, ...(flags.location ? { storageLocation: flags.location } : {}) },
    ...(flags.paused ? { paused: true } : {}),
    ...(flags.skipImmediately ? { skipImmediately: true } : {}),
    ...(Object.keys(retention).length ? { retention } : {}),
  };
}

export async function createSchedule(command: Command, name: string, flags: CreateFlags): Promise<void> {
  checkBackupName(name);
  const spec = scheduleSpec(flags);
  await withArca(command, async (api) => {
    await checkTargetLocation(api, flags.location);
    await api.objects.create("Schedule", name, spec);
    process.stdout.write(
      `schedule ${name} created in namespace ${api.namespace}: ${spec.schedule}` +
        `${spec.timezone ? ` (${spec.timezone})` : ""}, ${retentionText(spec.retention)}` +
        `${spec.paused ? "; paused" : ""}\n`,
    );
  });
}

export async function getSchedules(
  command: Command,
  name: string | undefined,
  output: string,
): Promise<void> {
  await withArca(command, async (api) => {
    const all = await getOrList(api, "Schedule", name);
    printOutput(output, asOutput(name, all), () =>
      all.length ? scheduleTable(all) : `no schedules in namespace ${api.namespace}`,
    );
  });
}

export async function describeSchedule(command: Command, name: string, output: string): Promise<void> {
  await withArca(command, async (api) => {
    const s = await mustGet(api, "Schedule", name);
    const backups = (await api.objects.list("Backup", `${LABELS.schedule}=${name}`)).sort((a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
    );
    printOutput(output, { schedule: forOutput(s), backups: backups.map(forOutput) }, () =>
      describeScheduleText(s, backups),
    );
  });
}

export async function setPaused(command: Command, name: string, paused: boolean): Promise<void> {
  await withArca(command, async (api) => {
    const schedule = await mustGet(api, "Schedule", name);
    if ((schedule.spec.paused === true) === paused) {
      process.stdout.write(`schedule ${name} is already ${paused ? "paused" : "running"}\n`);
      return;
    }
    await api.objects.patch("Schedule", name, { spec: { paused } });
    process.stdout.write(`schedule ${name} ${paused ? "paused" : "unpaused"}\n`);
  });
}

export async function deleteSchedule(command: Command, name: string): Promise<void> {
  await withArca(command, async (api) => {
    if (!(await api.objects.delete("Schedule", name))) throw notFound(api, "Schedule", name);
    const kept = await api.objects.list("Backup", `${LABELS.schedule}=${name}`);
    process.stdout.write(
      `deleted schedule ${name}; the ${kept.length} backups it made are kept ` +
        `(\`arca backup get -l ${LABELS.schedule}=${name}\` lists them)\n`,
    );
  });
}
