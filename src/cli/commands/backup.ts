// arca backup create|get|describe|logs|download|delete, in client-side mode (--local): the
// engine runs here with the user's kubeconfig and the location's credentials.
import { createWriteStream, existsSync } from "node:fs";
import type { Command } from "commander";
import { Option } from "commander";
import { ArcaError } from "../../common/errors.js";
import { createLogger } from "../../common/log.js";
import {
  backupLog,
  deleteBackup,
  describeBackup,
  downloadBackup,
  listBackups,
} from "../../backup/catalog.js";
import { runBackup } from "../../backup/engine.js";
import {
  checkBackupName,
  checkSpec,
  DEFAULT_SPEC,
  parseClusterResourcesMode,
  type BackupSpec,
} from "../../backup/spec.js";
import { KubeClient } from "../../kube/client.js";
import { loadKubeConfig } from "../../kube/config.js";
import { shortId } from "../../repo/layout.js";
import { globalFlags } from "../cluster-flags.js";
import { describeBackupText, backupRows, BACKUP_COLUMNS } from "../describe-backup.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import { cliProgress, formatBytes } from "../progress.js";
import { abortOnSignals } from "../interrupt.js";
import { addLocationFlags, openLocation, withLocation, type LocationFlags } from "../repo-flags.js";
import { addSelectionFlags, selectionFrom, type SelectionFlags } from "../selection-flags.js";
import { versionInfo } from "../versions.js";

interface CreateFlags extends LocationFlags, SelectionFlags {
  local?: boolean;
  wait?: boolean;
  includeClusterResources: string;
  allVersions?: boolean;
  ttl?: string;
  json?: boolean;
}

function specFrom(flags: CreateFlags): BackupSpec {
  return checkSpec({
    ...DEFAULT_SPEC,
    ...selectionFrom(flags),
    includeClusterResources: parseClusterResourcesMode(flags.includeClusterResources),
    allVersions: flags.allVersions === true,
    ...(flags.ttl ? { ttl: flags.ttl } : {}),
  });
}

export function registerBackup(program: Command): void {
  const backup = program.command("backup").description("back up applications: resources into a location");

  addSelectionFlags(
    addLocationFlags(backup.command("create").description("back up resources into a new snapshot")),
    "back up",
  )
    .argument("<name>", "backup name, unique in the location")
    .option("--local", "run the backup here, with your kubeconfig (client-side mode)")
    .option("--wait", "wait for the backup to finish (always so with --local)")
    .addOption(
      new Option(
        "--include-cluster-resources <mode>",
        "cluster-scoped resources: true, false, or auto (only what included items need, unless all namespaces are backed up)",
      )
        .choices(["true", "false", "auto"])
        .default("auto"),
    )
    .option("--all-versions", "store every served version of each resource, not only the preferred one")
    .option("--ttl <duration>", "how long to keep the backup, e.g. 720h")
    .option("--json", "progress and result as JSON lines")
    .action(async (name: string, flags: CreateFlags, command: Command) => {
      checkBackupName(name);
      const spec = specFrom(flags);
      if (!flags.local)
        throw new ArcaError(
          "creating a Backup for the in-cluster controller is not available in this version",
          {
            hint: "run the backup from here with --local",
          },
        );
      const log = createLogger({ level: process.env.ARCA_LOG_LEVEL ?? "warn" });
      const { signal, dispose } = abortOnSignals();
      const kc = await loadKubeConfig(globalFlags(command));
      const client = new KubeClient(kc, {
        signal,
        onRetry: (what, err, delay) =>
          log.warn(
            { delayMs: delay },
            `${what}: retrying after ${err instanceof Error ? err.message : String(err)}`,
          ),
      });
      const { repo, created } = await openLocation(command, { create: true, signal });
      if (created) process.stderr.write(`initialized a new repository at ${repo.location}\n`);
      const progress = cliProgress(flags.json === true, "items");
      try {
        const outcome = await runBackup({
          name,
          spec,
          repo,
          client,
          progress,
          logger: log,
          programVersion: `arca ${versionInfo().arca}`,
        });
        progress.done();
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
        progress.done();
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
        client.close();
        repo.close();
      }
    });

  addLocationFlags(backup.command("get").description("list the backups in a location"))
    .argument("[name]", "only this backup")
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: LocationFlags & { output: string }, command: Command) => {
      await withLocation(command, async (repo) => {
        const all = (await listBackups(repo)).filter((b) => !name || b.name === name);
        if (name && all.length === 0)
          throw new ArcaError(`no backup named ${name} in ${repo.location}`, {
            hint: "list them with `arca backup get`",
          });
        printOutput(flags.output, all, () => formatTable(BACKUP_COLUMNS, backupRows(all)));
      });
    });

  addLocationFlags(backup.command("describe").description("what a backup holds, why, and what went wrong"))
    .argument("<name>", "backup name")
    .option("--details", "list every object, not only the counts per resource")
    .addOption(outputOption())
    .action(
      async (
        name: string,
        flags: LocationFlags & { output: string; details?: boolean },
        command: Command,
      ) => {
        await withLocation(command, async (repo) => {
          const details = await describeBackup(repo, name);
          printOutput(flags.output, details, () =>
            describeBackupText(details, repo.location, flags.details === true),
          );
        });
      },
    );

  addLocationFlags(backup.command("logs").description("print a backup's log (JSON lines)"))
    .argument("<name>", "backup name")
    .action(async (name: string, _flags: LocationFlags, command: Command) => {
      await withLocation(command, async (repo) => {
        process.stdout.write(await backupLog(repo, name));
      });
    });

  addLocationFlags(backup.command("download").description("write a backup's resources as a .tar.gz"))
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
        await withLocation(command, async (repo) => {
          const files = await downloadBackup(repo, name, createWriteStream(path));
          process.stdout.write(`wrote ${files} files of backup ${name} to ${path}\n`);
        });
      },
    );

  addLocationFlags(
    backup.command("delete").description("delete a backup's data: forget its snapshot and prune"),
  )
    .argument("<name>", "backup name")
    .option("--confirm", "do not ask for confirmation")
    .action(async (name: string, flags: LocationFlags & { confirm?: boolean }, command: Command) => {
      if (!flags.confirm)
        throw new ArcaError(`deleting backup ${name} removes its data for good`, {
          hint: "pass --confirm to go ahead",
        });
      await withLocation(command, async (repo) => {
        const { snapshot, prune } = await deleteBackup(repo, name);
        process.stdout.write(
          `deleted backup ${name} (snapshot ${shortId(snapshot)}); pruned ${prune.packsDeleted} packs, ` +
            `freed ${formatBytes(prune.bytesFreed)}\n`,
        );
      });
    });
}
