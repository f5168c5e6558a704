// What to back up, as flags: shared by `backup create` and `schedule create` (a Schedule's
// template is a Backup spec), so that both parse and check them with one piece of code.
import { Option, type Command } from "commander";
import { checkSpec, DEFAULT_SPEC, parseClusterResourcesMode, type BackupSpec } from "../backup/spec.js";
import { addSelectionFlags, selectionFrom, type SelectionFlags } from "./selection-flags.js";

export interface BackupSpecFlags extends SelectionFlags {
  includeClusterResources: string;
  allVersions?: boolean;
  ttl?: string;
}

export function addBackupSpecFlags(command: Command): Command {
  return addSelectionFlags(command, "back up")
    .addOption(
      new Option(
        "--include-cluster-resources <mode>",
        "cluster-scoped resources: true, false, or auto (only what included items need, unless all namespaces are backed up)",
      )
        .choices(["true", "false", "auto"])
        .default("auto"),
    )
    .option("--all-versions", "store every served version of each resource, not only the preferred one")
    .option("--ttl <duration>", "how long to keep the backup, e.g. 720h");
}

/** Throws ArcaError (conflicting filters, a bad selector or TTL) before anything is created. */
export function backupSpecFrom(flags: BackupSpecFlags): BackupSpec {
  return checkSpec({
    ...DEFAULT_SPEC,
    ...selectionFrom(flags),
    includeClusterResources: parseClusterResourcesMode(flags.includeClusterResources),
    allVersions: flags.allVersions === true,
    ...(flags.ttl ? { ttl: flags.ttl } : {}),
  });
}
