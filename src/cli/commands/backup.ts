// arca backup create|get|describe|logs|download|delete. In client-side mode (--local) the
// engine runs here with the user's kubeconfig and the location's credentials; otherwise the
// commands go to the in-cluster controller's Backup objects (backup-remote.ts).
import { createWriteStream, existsSync } from "node:fs";
import type { Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import {
  backupLog,
  deleteBackup,
  describeBackup,
  downloadBackup,
  listBackups,
} from "../../backup/catalog.js";
import { checkBackupName } from "../../backup/spec.js";
import { loadKubeConfig } from "../../kube/config.js";
import { backupJob } from "../../jobs/backup.js";
import { runJob } from "../../jobs/runner.js";
import { shortId } from "../../repo/layout.js";
import { addBackupSpecFlags, backupSpecFrom, type BackupSpecFlags } from "../backup-spec-flags.js";
import { globalFlags } from "../cluster-flags.js";
import { describeBackupText, backupRows, BACKUP_COLUMNS } from "../describe-backup.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import { cliProgress, formatBytes } from "../progress.js";
import { abortOnSignals } from "../interrupt.js";
import {
  addLocationFlags,
  addNoLockFlag,
  cliLocation,
  readLocation,
  sessionOptions,
  withLocation,
  type LocationFlags,
} from "../repo-flags.js";
import { addModeFlags, runsLocally, type ModeFlags } from "../run-mode.js";
import { versionInfo } from "../versions.js";

// The cluster side loads typebox and the API layer: only commands that use it pay for it.
const remote = () => import("./backup-remote.js");

interface CreateFlags extends ModeFlags, BackupSpecFlags {
  wait?: boolean;
  json?: boolean;
}

export function registerBackup(program: Command): void {
  const backup = program.command("backup").description("back up applications: resources into a location");

  addBackupSpecFlags(
    addModeFlags(
      backup
        .command("create")
        .description("back up resources: a Backup for the controller, or here with --local"),
      "run the backup here, with your kubeconfig (client-side mode)",
    ),
  )
    .argument("<name>", "backup name, unique in the namespace and the location")
    .option(
      "--wait",
      "wait for the backup to finish: exit 0 Completed, 3 PartiallyFailed, 1 Failed (always so with --local)",
    )
    .option("--json", "progress and result as JSON lines")
    .action(async (name: string, flags: CreateFlags, command: Command) => {
      checkBackupName(name);
      const spec = backupSpecFrom(flags);
      if (!runsLocally(command, { reading: false }))
        return (await remote()).createBackupCr(command, name, spec, flags);
      const { signal, dispose } = abortOnSignals();
      const kubeconfig = loadKubeConfig(globalFlags(command));
      kubeconfig.catch(() => undefined); // reported by the job
      const progress = cliProgress(flags.json === true, "items");
      try {
        const outcome = await runJob(
          {
            location: cliLocation(command),
            // Opened first (scrypt runs on the thread pool) and while the engine surveys the
            // cluster; a new repository is made only once the kubeconfig has loaded.
            create: kubeconfig,
            created: (repo) => process.stderr.write(`initialized a new repository at ${repo.location}\n`),
            ...sessionOptions(command.opts<LocationFlags>()),
            cluster: kubeconfig,
            log: { echoLevel: process.env.ARCA_LOG_LEVEL ?? "warn" },
            progress,
            signal,
          },
          backupJob({ name, spec, programVersion: `arca ${versionInfo().arca}` }),
        );
        const s = outcome.record.status;
        if (flags.json) {
          process.stdout.write(JSON.stringify({ type: "summary", snapshot: outcome.snapshot, ...s }) + "\n");
        } else {
          process.stdout.write(
            `backup ${name}: ${s.phase} (snapshot ${shortId(outcome.snapshot)})\n` +
              `${s.itemsBackedUp} items in ${s.resourceTypes} resource types, ${formatBytes(s.bytes)} ` +
              `(${formatBytes(s.storedBytes)} stored)\n` +
              `${s.warnings} warnings, ${s.errors} errors` +
              (s.warnings + s.errors ? `; see \`arca backup describe ${name}\`` : "") +
              "\n",
          );
        }
        // PartiallyFailed is saved, but scripts must not mistake it for Completed.
        if (s.phase !== "Completed") process.exitCode = 3;
      } catch (err) {
        // A kubeconfig that does not load is the reason itself: no backup was started.
        if (!(await kubeconfig.catch(() => undefined))) throw err;
        if (signal.aborted)
          throw new ArcaError(`backup ${name} was interrupted; no snapshot was written`, { cause: err });
        throw new ArcaError(
          `backup ${name} failed, no snapshot was written: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
            hint: err instanceof ArcaError ? err.hint : undefined,
          },
        );
      } finally {
        dispose();
      }
    });

  addNoLockFlag(
    addModeFlags(
      backup.command("get").description("list the Backups in the cluster, or those in a location URL"),
      "list the backups stored in the location URL",
    ),
  )
    .argument("[name]", "only this backup")
    .option("-l, --selector <selector>", "only Backups whose labels match (not with a location URL)")
    .addOption(outputOption())
    .action(
      async (
        name: string | undefined,
        flags: LocationFlags & { output: string; selector?: string },
        command: Command,
      ) => {
        if (!runsLocally(command, { reading: true }))
          return (await remote()).getBackupCrs(command, name, flags);
        await readLocation(command, async (repo) => {
          const all = (await listBackups(repo)).filter((b) => !name || b.name === name);
          if (name && all.length === 0)
            throw new ArcaError(`no backup named ${name} in ${repo.location}`, {
              hint: "list them with `arca backup get`",
            });
          printOutput(flags.output, all, () => formatTable(BACKUP_COLUMNS, backupRows(all)));
        });
      },
    );

  addNoLockFlag(
    addModeFlags(
      backup.command("describe").description("what a backup holds, why, and what went wrong"),
      "read the backup from the location URL",
    ),
  )
    .argument("<name>", "backup name")
    .option("--details", "list every object, not only the counts per resource (location URL only)")
    .addOption(outputOption())
    .action(
      async (
        name: string,
        flags: LocationFlags & { output: string; details?: boolean },
        command: Command,
      ) => {
        if (!runsLocally(command, { reading: true }))
          return (await remote()).describeBackupCrCommand(command, name, flags.output);
        await readLocation(command, async (repo) => {
          const details = await describeBackup(repo, name);
          printOutput(flags.output, details, () =>
            describeBackupText(details, repo.location, flags.details === true),
          );
        });
      },
    );

  addNoLockFlag(
    addModeFlags(
      backup.command("logs").description("print a backup's log (JSON lines)"),
      "read the log from the location URL",
    ),
  )
    .argument("<name>", "backup name")
    .action(async (name: string, _flags: LocationFlags, command: Command) => {
      if (!runsLocally(command, { reading: true })) return (await remote()).backupCrLogs(command, name);
      await readLocation(command, async (repo) => {
        process.stdout.write(await backupLog(repo, name));
      });
    });

  addNoLockFlag(
    addLocationFlags(backup.command("download").description("write a backup's resources as a .tar.gz")),
  )
    .argument("<name>", "backup name")
    .option("-f, --file <path>", "where to write it (default: NAME-data.tar.gz)")
    .option("--force", "overwrite the file if it exists")
    .action(
      async (name: string, flags: LocationFlags & { file?: string; force?: boolean }, command: Command) => {
        const path = flags.file ?? `${name}-data.tar.gz`;
        if (existsSync(path) && !flags.force)
          throw new ArcaError(`${path} already exists`, {
            hint: "pass --force to overwrite it, or --file to choose another",
          });
        await readLocation(command, async (repo) => {
          const files = await downloadBackup(repo, name, createWriteStream(path));
          process.stdout.write(`wrote ${files} files of backup ${name} to ${path}\n`);
        });
      },
    );

  addModeFlags(
    backup
      .command("delete")
      .description(
        "delete a backup's data: forget its snapshot and prune (through a DeleteBackupRequest, " +
          "or here with --local). Deleting the Backup object itself never deletes data",
      ),
    "forget and prune in the location URL from here",
  )
    .argument("<name>", "backup name")
    .option("--confirm", "do not ask for confirmation")
    .action(async (name: string, flags: LocationFlags & { confirm?: boolean }, command: Command) => {
      if (!flags.confirm)
        throw new ArcaError(`deleting backup ${name} removes its data for good`, {
          hint: "pass --confirm to go ahead",
        });
      if (!runsLocally(command, { reading: true })) return (await remote()).deleteBackupCr(command, name);
      await withLocation(command, async (repo) => {
        const { snapshot, prune } = await deleteBackup(repo, name);
        process.stdout.write(
          `deleted backup ${name} (snapshot ${shortId(snapshot)}); pruned ${prune.packsDeleted} packs, ` +
            `freed ${formatBytes(prune.bytesFreed)}\n`,
        );
      });
    });
}
