// arca restore create|get|describe|logs. In client-side mode (--local) the restore engine runs
// here, with the user's kubeconfig and the location's credentials; otherwise the commands go to
// the in-cluster controller's Restore objects (restore-remote.ts).
import { Option, type Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { loadKubeConfig } from "../../kube/config.js";
import { runJob } from "../../jobs/runner.js";
import {
  checkRestoreSpec,
  DEFAULT_RESTORE_SPEC,
  parseExistingPolicy,
  parseNamespaceMappings,
  parseStorageClassMappings,
  type RestoreSpec,
} from "../../restore/spec.js";
import { checkBackupName } from "../../backup/spec.js";
import { globalFlags } from "../cluster-flags.js";
import {
  describeRestoreText,
  itemTable,
  RESTORE_COLUMNS,
  restoreRows,
  summaryLine,
} from "../describe-restore.js";
import { abortOnSignals } from "../interrupt.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import { cliProgress } from "../progress.js";
import { repeatable } from "../repeatable.js";
import {
  addNoLockFlag,
  cliLocation,
  readLocation,
  sessionOptions,
  type LocationFlags,
} from "../repo-flags.js";
import { addModeFlags, runsLocally, type ModeFlags } from "../run-mode.js";
import { addSelectionFlags, selectionFrom, type SelectionFlags } from "../selection-flags.js";

// The cluster side loads typebox and the API layer: only commands that use it pay for it.
const remote = () => import("./restore-remote.js");
// The restore engine, likewise, is for restore commands only (backup create never needs it).
const job = () => import("../../jobs/restore.js");
const catalog = () => import("../../restore/catalog.js");

interface CreateFlags extends ModeFlags, SelectionFlags {
  fromBackup: string;
  wait?: boolean;
  dryRun?: boolean;
  output: string;
  namespaceMappings?: string[];
  storageClassMappings?: string[];
  existingResourcePolicy: string;
  restoreStatus?: boolean;
  preserveNodeports?: boolean;
  resourceModifiers?: string;
  /** false with --no-lock. */
  lock?: boolean;
}

function specFrom(flags: CreateFlags): RestoreSpec {
  return checkRestoreSpec({
    ...DEFAULT_RESTORE_SPEC,
    ...selectionFrom(flags),
    backup: flags.fromBackup,
    namespaceMappings: parseNamespaceMappings(flags.namespaceMappings ?? []),
    storageClassMappings: parseStorageClassMappings(flags.storageClassMappings ?? []),
    existingResourcePolicy: parseExistingPolicy(flags.existingResourcePolicy),
    restoreStatus: flags.restoreStatus === true,
    preserveNodePorts: flags.preserveNodeports === true,
  });
}

/** Velero's default: the backup's name and the time, e.g. shop-20261124153012. */
const generatedName = (backup: string) =>
  `${backup}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`.slice(0, 253);

export function registerRestore(program: Command): void {
  const restore = program.command("restore").description("restore applications from a backup");

  addSelectionFlags(
    addModeFlags(
      restore
        .command("create")
        .description(
          "restore a backup's resources into the cluster: a Restore for the controller, or here with --local",
        ),
      "run the restore here, with your kubeconfig (client-side mode)",
    ),
    "restore",
  )
    .argument("[name]", "restore name (default: BACKUP-TIMESTAMP)")
    .requiredOption("--from-backup <backup>", "the backup to restore")
    .option(
      "--wait",
      "wait for the restore to finish: exit 0 Completed, 3 PartiallyFailed, 1 Failed (always so with --local)",
    )
    .option("--dry-run", "change nothing; report what each item would do, with diffs")
    .addOption(outputOption())
    .option("--namespace-mappings <a:b>", "restore namespace a into b (comma list, repeatable)", repeatable)
    .option("--storage-class-mappings <a:b>", "use storage class b where the backup says a", repeatable)
    .addOption(
      new Option(
        "--existing-resource-policy <policy>",
        "objects that exist and differ: none leaves them, update applies the backup",
      )
        .choices(["none", "update"])
        .default("none"),
    )
    .option("--restore-status", "keep the objects' status instead of dropping it")
    .option(
      "--preserve-nodeports",
      "keep every node port of the Services, allocated ones too (those the user chose are always kept)",
    )
    .option(
      "--no-lock",
      "(--local) take no lock and write nothing to the location, not even the restore's record: for a location that cannot be written",
    )
    .option(
      "--resource-modifiers <file>",
      "rules that patch objects before they are created (YAML; --local only)",
    )
    .action(async (name: string | undefined, flags: CreateFlags, command: Command) => {
      const spec = specFrom(flags);
      const restoreName = checkBackupName(name ?? generatedName(flags.fromBackup));
      if (!runsLocally(command, { reading: false })) {
        if (flags.lock === false)
          throw new ArcaError("--no-lock works only with --local: the controller locks the location itself", {
            hint: "pass --local and --location URL to restore from a read-only location from here",
          });
        if (flags.resourceModifiers)
          throw new ArcaError(
            "--resource-modifiers works only with --local: a Restore object does not carry them",
            {
              hint: "run the restore from here with --local and --location URL",
            },
          );
        if (command.getOptionValueSource("location") === "cli")
          throw new ArcaError(
            "without --local, a restore reads the location of its Backup: --location does not apply",
            {
              hint: "leave --location out, or pass --local to restore from the location URL from here",
            },
          );
        return (await remote()).createRestoreCr(command, restoreName, spec, flags);
      }
      const { restoreJob } = await job();
      const { loadModifiers } = await import("../../restore/modifiers.js");
      const modifiers = flags.resourceModifiers ? await loadModifiers(flags.resourceModifiers) : [];
      const { signal, dispose } = abortOnSignals();
      // Progress stays on the terminal: stdout carries the result, in the -o format.
      const progress = cliProgress(false, "items");
      try {
        const outcome = await runJob(
          {
            location: cliLocation(command),
            ...sessionOptions(flags),
            cluster: loadKubeConfig(globalFlags(command)),
            log: { echoLevel: process.env.ARCA_LOG_LEVEL ?? "warn" },
            progress,
            signal,
          },
          restoreJob({ name: restoreName, spec, modifiers, dryRun: flags.dryRun === true }),
        );
        printOutput(flags.output, { record: outcome.record, results: outcome.results }, () =>
          [
            ...(flags.dryRun ? [itemTable(outcome.results), ""] : []),
            summaryLine(outcome.record),
            ...(flags.dryRun ? [] : [`see \`arca restore describe ${restoreName}\` for each item`]),
          ].join("\n"),
        );
        if (outcome.record.status.phase !== "Completed") process.exitCode = 3;
      } catch (err) {
        if (signal.aborted)
          throw new ArcaError(`restore ${restoreName} was interrupted; objects created so far stay`, {
            cause: err,
          });
        throw err;
      } finally {
        dispose();
      }
    });

  addNoLockFlag(
    addModeFlags(
      restore
        .command("get")
        .description("list the Restores in the cluster, or those recorded in a location URL"),
      "list the restores recorded in the location URL",
    ),
  )
    .argument("[name]", "only this restore")
    .option("-l, --selector <selector>", "only Restores whose labels match (not with a location URL)")
    .addOption(outputOption())
    .action(
      async (
        name: string | undefined,
        flags: LocationFlags & { output: string; selector?: string },
        command: Command,
      ) => {
        if (!runsLocally(command, { reading: true }))
          return (await remote()).getRestoreCrs(command, name, flags);
        const { listRestores } = await catalog();
        await readLocation(command, async (repo) => {
          const all = (await listRestores(repo)).filter((r) => !name || r.name === name);
          printOutput(flags.output, all, () => formatTable(RESTORE_COLUMNS, restoreRows(all)));
        });
      },
    );

  addNoLockFlag(
    addModeFlags(
      restore.command("describe").description("a restore's result for every item"),
      "read the restore's record from the location URL",
    ),
  )
    .argument("<name>", "restore name")
    .addOption(outputOption())
    .action(async (name: string, flags: LocationFlags & { output: string }, command: Command) => {
      if (!runsLocally(command, { reading: true }))
        return (await remote()).describeRestoreCrCommand(command, name, flags.output);
      const { describeRestore } = await catalog();
      await readLocation(command, async (repo) => {
        const { record, results } = await describeRestore(repo, name);
        printOutput(flags.output, { record, results }, () =>
          describeRestoreText(record, results, repo.location),
        );
      });
    });

  addNoLockFlag(
    addModeFlags(
      restore.command("logs").description("print a restore's log (JSON lines)"),
      "read the log from the location URL",
    ),
  )
    .argument("<name>", "restore name")
    .action(async (name: string, _flags: LocationFlags, command: Command) => {
      if (!runsLocally(command, { reading: true })) return (await remote()).restoreCrLogs(command, name);
      const { restoreLog } = await catalog();
      await readLocation(command, async (repo) => {
        process.stdout.write(await restoreLog(repo, name));
      });
    });
}
