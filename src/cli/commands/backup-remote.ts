// arca backup create|get|describe|logs|delete without --local: Backup objects for the
// in-cluster controller, and a DeleteBackupRequest when data is to go.
import type { Command } from "commander";
import { backupFields } from "../../api/convert.js";
import { LABELS } from "../../api/names.js";
import type { BackupSpec as EngineBackupSpec } from "../../backup/spec.js";
import type { BackupResults } from "../../backup/layout.js";
import {
  asOutput,
  checkTargetLocation,
  getOrList,
  mustGet,
  suffixedName,
  withArca,
  forOutput,
} from "../arca-cluster.js";
import { backupCrTable, backupLocation, describeBackupCr } from "../describe-backup-cr.js";
import { follow, progressLine, settle } from "../follow.js";
import { printOutput } from "../output.js";
import { clusterLocation } from "../run-mode.js";
import { keptLogs, noLogsError, whyNoLogs } from "../work-logs.js";

export async function createBackupCr(
  command: Command,
  name: string,
  spec: EngineBackupSpec,
  flags: { wait?: boolean; json?: boolean },
): Promise<void> {
  const location = clusterLocation(command);
  await withArca(command, async (api) => {
    await checkTargetLocation(api, location);
    await api.objects.create("Backup", name, {
      ...backupFields(spec),
      ...(location ? { storageLocation: location } : {}),
    });
    if (!flags.wait) {
      process.stdout.write(
        `backup ${name} created in namespace ${api.namespace}; the controller runs it\n` +
          `see how it goes with \`arca backup describe ${name}\` or \`arca backup get ${name}\`\n`,
      );
      return;
    }
    const done = await follow(api, "Backup", name, { json: flags.json === true });
    if (flags.json) process.stdout.write(JSON.stringify({ type: "summary", name, ...done.status }) + "\n");
    else process.stdout.write(progressLine("Backup", done) + "\n");
    settle("Backup", done);
    if (process.exitCode === 3 && !flags.json)
      process.stdout.write(`see \`arca backup describe ${name}\` for the warnings and errors\n`);
  });
}

export async function getBackupCrs(
  command: Command,
  name: string | undefined,
  flags: { output: string; selector?: string },
): Promise<void> {
  const location = clusterLocation(command);
  await withArca(command, async (api) => {
    const backups = (await getOrList(api, "Backup", name, flags.selector)).filter(
      (b) => !location || backupLocation(b) === location,
    );
    printOutput(flags.output, asOutput(name, backups), () =>
      backups.length ? backupCrTable(backups) : `no backups in namespace ${api.namespace}`,
    );
  });
}

export async function describeBackupCrCommand(command: Command, name: string, output: string): Promise<void> {
  await withArca(command, async (api) => {
    const backup = await mustGet(api, "Backup", name);
    const kept = await keptLogs<BackupResults>(api, "backup", name);
    const missing = kept?.problem ?? (kept ? "" : (await whyNoLogs(api, "backup", backup)).reason);
    printOutput(
      output,
      { backup: forOutput(backup), ...(kept?.results ? { results: kept.results } : {}) },
      () => describeBackupCr(backup, kept?.results, missing),
    );
  });
}

export async function backupCrLogs(command: Command, name: string): Promise<void> {
  await withArca(command, async (api) => {
    const kept = await keptLogs(api, "backup", name);
    if (kept) {
      process.stdout.write(kept.log);
      return;
    }
    throw await noLogsError(api, "backup", await mustGet(api, "Backup", name));
  });
}

/** The controller forgets the snapshot, prunes, then removes the Backup object. */
export async function deleteBackupCr(command: Command, name: string): Promise<void> {
  await withArca(command, async (api) => {
    await mustGet(api, "Backup", name);
    const request = suffixedName(name);
    await api.objects.create("DeleteBackupRequest", request, { backupName: name }, { [LABELS.backup]: name });
    process.stdout.write(
      `requested the deletion of backup ${name} (DeleteBackupRequest ${request}); the controller forgets ` +
        `its snapshot, prunes the location, then removes the Backup\n` +
        `follow it with \`kubectl -n ${api.namespace} get deletebackuprequests -l ${LABELS.backup}=${name}\`\n`,
    );
  });
}
