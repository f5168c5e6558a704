// arca schedule create|get|describe|pause|unpause|delete: the flags. The work, on Schedule
// objects in the cluster, is in schedule-remote.ts.
import { InvalidArgumentError, type Command } from "commander";
import { addBackupSpecFlags } from "../backup-spec-flags.js";
import { outputOption } from "../output.js";
import type { CreateFlags } from "./schedule-remote.js";

// The cluster side loads typebox and the cron parser: only schedule commands pay for them.
const remote = () => import("./schedule-remote.js");

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number, 0 or more");
  return Number(value);
}

function setPaused(program: Command, verb: "pause" | "unpause"): void {
  const paused = verb === "pause";
  program
    .command(verb)
    .description(paused ? "stop making backups until unpaused" : "make backups again on the schedule")
    .argument("<name>", "schedule name")
    .action(async (name: string, _flags: object, command: Command) =>
      (await remote()).setPaused(command, name, paused),
    );
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
    .action(async (name: string, flags: CreateFlags, command: Command) =>
      (await remote()).createSchedule(command, name, flags),
    );

  schedule
    .command("get")
    .description("list the schedules")
    .argument("[name]", "only this schedule")
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { output: string }, command: Command) =>
      (await remote()).getSchedules(command, name, flags.output),
    );

  schedule
    .command("describe")
    .description("a schedule, its state and the backups it made")
    .argument("<name>", "schedule name")
    .addOption(outputOption())
    .action(async (name: string, flags: { output: string }, command: Command) =>
      (await remote()).describeSchedule(command, name, flags.output),
    );

  setPaused(schedule, "pause");
  setPaused(schedule, "unpause");

  schedule
    .command("delete")
    .description("delete a schedule; the backups it made stay (delete them with `arca backup delete`)")
    .argument("<name>", "schedule name")
    .action(async (name: string, _flags: object, command: Command) =>
      (await remote()).deleteSchedule(command, name),
    );
}
