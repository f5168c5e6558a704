// arca restore create|get|describe|logs without --local: Restore objects for the in-cluster
// controller, which reads the Backup's location.
import type { Command } from "commander";
import { restoreFields } from "../../api/convert.js";
import { LABELS } from "../../api/names.js";
import { ArcaError } from "../../common/errors.js";
import type { RestoreResults } from "../../restore/layout.js";
import type { RestoreSpec as EngineRestoreSpec } from "../../restore/spec.js";
import { asOutput, getOrList, mustGet, withArca, type ArcaCluster, forOutput } from "../arca-cluster.js";
import { itemTable } from "../describe-restore.js";
import { describeRestoreCr, restoreCrTable } from "../describe-restore-cr.js";
import { follow, settle } from "../follow.js";
import { printOutput } from "../output.js";
import { keptLogs, noLogsError, whyNoLogs } from "../work-logs.js";

/** A restore reads a backup that finished with a snapshot; say so before creating anything. */
async function checkSourceBackup(api: ArcaCluster, name: string): Promise<void> {
  const backup = await api.objects.get("Backup", name);
  if (!backup)
    throw new ArcaError(`there is no Backup named ${name} in namespace ${api.namespace} to restore from`, {
      hint: `list them with \`arca backup get\` (-n ${api.namespace}); a backup only in a location shows up once the controller syncs it`,
    });
  const phase = backup.status?.phase ?? "New";
  if (phase === "New" || phase === "InProgress")
    throw new ArcaError(`backup ${name} has not finished yet (phase ${phase})`, {
      hint: `wait for it: \`arca backup describe ${name}\``,
    });
  if (phase === "Failed" || phase === "FailedValidation" || phase === "Deleting")
    throw new ArcaError(`backup ${name} cannot be restored: its phase is ${phase}`, {
      hint: "restore from a Completed or PartiallyFailed backup",
    });
}

export async function createRestoreCr(
  command: Command,
  name: string,
  spec: EngineRestoreSpec,
  flags: { wait?: boolean; dryRun?: boolean; output: string },
): Promise<void> {
  await withArca(command, async (api) => {
    await checkSourceBackup(api, spec.backup);
    await api.objects.create("Restore", name, restoreFields(spec, flags.dryRun === true), {
      [LABELS.backup]: spec.backup,
    });
    const table = flags.output === "table";
    if (!flags.wait) {
      if (table)
        process.stdout.write(
          `restore ${name}${flags.dryRun ? " (dry run)" : ""} of backup ${spec.backup} created in namespace ` +
            `${api.namespace}; the controller runs it\n` +
            `see how it goes with \`arca restore describe ${name}\`\n`,
        );
      else printOutput(flags.output, forOutput(await mustGet(api, "Restore", name)), () => "");
      return;
    }
    const done = await follow(api, "Restore", name);
    const kept = await keptLogs<RestoreResults>(api, "restore", name);
    printOutput(
      flags.output,
      { restore: forOutput(done), ...(kept?.results ? { results: kept.results } : {}) },
      () =>
        [
          // A dry run is for reading what would happen, item by item.
          ...(flags.dryRun && kept?.results ? [itemTable(kept.results), ""] : []),
          // The follow lines went to stderr; the result, counted by outcome, goes to stdout.
          `restore ${name}: ${done.status?.phase ?? "Unknown"}${kept?.results ? ` (${outcomeCounts(kept.results)})` : ""}`,
          `see \`arca restore describe ${name}\` for each item`,
        ].join("\n"),
    );
    settle("Restore", done);
  });
}

export async function getRestoreCrs(
  command: Command,
  name: string | undefined,
  flags: { output: string; selector?: string },
): Promise<void> {
  await withArca(command, async (api) => {
    const restores = await getOrList(api, "Restore", name, flags.selector);
    printOutput(flags.output, asOutput(name, restores), () =>
      restores.length ? restoreCrTable(restores) : `no restores in namespace ${api.namespace}`,
    );
  });
}

export async function describeRestoreCrCommand(
  command: Command,
  name: string,
  output: string,
): Promise<void> {
  await withArca(command, async (api) => {
    const restore = await mustGet(api, "Restore", name);
    const kept = await keptLogs<RestoreResults>(api, "restore", name);
    const missing = kept?.problem ?? (kept ? "" : (await whyNoLogs(api, "restore", restore)).reason);
    printOutput(
      output,
      { restore: forOutput(restore), ...(kept?.results ? { results: kept.results } : {}) },
      () => describeRestoreCr(restore, kept?.results, missing),
    );
  });
}

export async function restoreCrLogs(command: Command, name: string): Promise<void> {
  await withArca(command, async (api) => {
    const kept = await keptLogs(api, "restore", name);
    if (kept) {
      process.stdout.write(kept.log);
      return;
    }
    throw await noLogsError(api, "restore", await mustGet(api, "Restore", name));
  });
}

/** "3 created, 1 skipped": how the items ended, as the --local summary says it. */
function outcomeCounts(results: RestoreResults): string {
  const counts = new Map<string, number>();
  for (const item of results.items) counts.set(item.outcome, (counts.get(item.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(", ") || "no items";
}
