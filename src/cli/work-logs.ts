// The log and results of a Backup or Restore that the controller ran, from the ConfigMap it
// keeps once the work finished; and, when there is none, why not and where else to look.
import { loadLogs, type LoggedKind } from "../api/logs.js";
import type { ObjectOf } from "../api/objects.js";
import { ArcaError, messageOf } from "../common/errors.js";
import { locationUrl, type ArcaCluster } from "./arca-cluster.js";
import { backupLocation } from "./describe-backup-cr.js";

export interface KeptLogs<R> {
  log: Buffer;
  /** Parsed results.json; undefined (with `problem`) when it does not parse. */
  results?: R;
  problem?: string;
}

export async function keptLogs<R>(
  api: ArcaCluster,
  kind: LoggedKind,
  name: string,
): Promise<KeptLogs<R> | undefined> {
  const logs = await loadLogs(api.client, api.namespace, kind, name);
  if (!logs) return undefined;
  try {
    return { log: logs.log, results: JSON.parse(logs.results.toString("utf8")) as R };
  } catch (err) {
    return { log: logs.log, problem: `the kept results do not parse: ${messageOf(err)}` };
  }
}

type Worked = ObjectOf<"Backup"> | ObjectOf<"Restore">;

/** Why a run has no kept log yet, as a sentence, and the command that reads it otherwise. */
export async function whyNoLogs(
  api: ArcaCluster,
  kind: LoggedKind,
  o: Worked,
): Promise<{ reason: string; hint?: string }> {
  const name = o.metadata.name;
  const phase = o.status?.phase ?? "New";
  if (phase === "New" || phase === "InProgress")
    return {
      reason: `the ${kind} is still running (phase ${phase}); its log is kept here once it finishes`,
      hint: `follow it with \`arca ${kind} describe ${name}\``,
    };
  if (phase === "FailedValidation")
    return {
      reason: `the ${kind} failed validation and never ran: ${(o.status?.validationErrors ?? []).join("; ")}`,
    };
  // The repository keeps the full copy: read it from here with the location's credentials.
  const backup =
    kind === "backup"
      ? (o as ObjectOf<"Backup">)
      : await api.objects.get("Backup", (o as ObjectOf<"Restore">).spec.backupName);
  const url = await locationUrl(api, backup ? backupLocation(backup) : undefined);
  return {
    reason: `the ${kind}'s log is not kept in the cluster; it is only in the location`,
    hint: `read it from there: \`arca ${kind} logs ${name} --local --location ${url ?? "URL"}\``,
  };
}

export async function noLogsError(api: ArcaCluster, kind: LoggedKind, o: Worked): Promise<ArcaError> {
  const { reason, hint } = await whyNoLogs(api, kind, o);
  return new ArcaError(`no log for ${kind} ${o.metadata.name}: ${reason}`, { hint });
}
