// arca schedule create|get|describe|pause|unpause|delete: Schedule objects, from which the
// in-cluster controller makes Backups on a cron and keeps what the retention says.
import { InvalidArgumentError, type Command } from "commander";
import { backupFields } from "../../api/convert.js";
import { LABELS } from "../../api/meta.js";
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
import { addBackupSpecFlags, backupSpecFrom, type BackupSpecFlags } from "../backup-spec-flags.js";
import { describeScheduleText, retentionText, scheduleTable } from "../describe-schedule.js";
import { outputOption, printOutput } from "../output.js";

interface CreateFlags extends BackupSpecFlags {
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

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number, 0 or more");
  return Number(value);
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

function setPaused(program: Command, verb: "pause" | "unpause"): void {
  const paused = verb === "pause";
  program
    .command(verb)
    .description(paused ? "stop making backups until unpaused" : "make backups again on the schedule")
    .argument("<name>", "schedule name")
    .action(async (name: string, _flags: object, command: Command) => {
      await withArca(command, async (api) => {
        const schedule = await mustGet(api, "Schedule", name);
        if ((schedule.spec.paused === true) === paused) {
          process.stdout.write(`schedule ${name} is already ${paused ? "paused" : "running"}\n`);
          return;
        }
        await api.objects.patch("Schedule", name, { spec: { paused } });
        process.stdout.write(`schedule ${name} ${paused ? "paused" : "unpaused"}\n`);
      });
    });
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command("schedule")
    .description("back up on a cron: Schedules, run by the in-cluster controller");

  addBackupSpecFlags(schedule.command("create").description("make backups on a cron, and keep some of them"))
    .argument("<name>", "schedule name; its backups are named NAME-<yyyymmddhhmmss>")
    .requiredOption(
      "--schedule <cron>",
      'when: 5 cron fields ("0 2 * * *"), 6 with seconds, @daily and friends, or "@every 6h"',
    )
    .option("--timezone <tz>", "IANA time zone the cron is read in, e.g. Asia/Shanghai (default UTC)")
    .option("--location <name>", "the BackupLocation the backups go to (default: the default one)")
    .option("--keep-last <n>", "keep the newest N backups", count)
    .option("--keep-daily <n>", "keep the newest backup of each of the last N days", count)
    .option("--keep-weekly <n>", "keep the newest backup of each of the last N weeks", count)
    .option("--keep-monthly <n>", "keep the newest backup of each of the last N months", count)
    .option("--paused", "create it paused")
    .option("--skip-immediately", "wait for the first tick instead of backing up at once")
    .action(async (name: string, flags: CreateFlags, command: Command) => {
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
    });

  schedule
    .command("get")
    .description("list the schedules")
    .argument("[name]", "only this schedule")
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { output: string }, command: Command) => {
      await withArca(command, async (api) => {
        const all = await getOrList(api, "Schedule", name);
        printOutput(flags.output, asOutput(name, all), () =>
          all.length ? scheduleTable(all) : `no schedules in namespace ${api.namespace}`,
        );
      });
    });

  schedule
    .command("describe")
    .description("a schedule, its state and the backups it made")
    .argument("<name>", "schedule name")
    .addOption(outputOption())
    .action(async (name: string, flags: { output: string }, command: Command) => {
      await withArca(command, async (api) => {
        const s = await mustGet(api, "Schedule", name);
        const backups = (await api.objects.list("Backup", `${LABELS.schedule}=${name}`)).sort((a, b) =>
          (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
        );
        printOutput(flags.output, { schedule: forOutput(s), backups: backups.map(forOutput) }, () =>
          describeScheduleText(s, backups),
        );
      });
    });

  setPaused(schedule, "pause");
  setPaused(schedule, "unpause");

  schedule
    .command("delete")
    .description("delete a schedule; the backups it made stay (delete them with `arca backup delete`)")
    .argument("<name>", "schedule name")
    .action(async (name: string, _flags: object, command: Command) => {
      await withArca(command, async (api) => {
        if (!(await api.objects.delete("Schedule", name))) throw notFound(api, "Schedule", name);
        const kept = await api.objects.list("Backup", `${LABELS.schedule}=${name}`);
        process.stdout.write(
          `deleted schedule ${name}; the ${kept.length} backups it made are kept ` +
            `(\`arca backup get -l ${LABELS.schedule}=${name}\` lists them)\n`,
        );
      });
    });
}
