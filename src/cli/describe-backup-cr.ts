// How Backup objects in the cluster print for people: the `get` table and the `describe` page
// (the results come from the ConfigMap the controller keeps once the backup finished).
import type { ObjectOf } from "../api/objects.js";
import { LABELS } from "../api/names.js";
import type { BackupResults } from "../backup/layout.js";
import { age, expires, orNone } from "./arca-cluster.js";
import { resultsLines } from "./describe-backup.js";
import { formatTable } from "./output.js";
import { formatBytes } from "./progress.js";

type Backup = ObjectOf<"Backup">;

export const BACKUP_CR_COLUMNS = [
  "NAME",
  "STATUS",
  "ITEMS",
  "ERRORS",
  "WARNINGS",
  "CREATED",
  "EXPIRES",
  "LOCATION",
];

/** The location the controller recorded for a backup, or the one it names. */
export const backupLocation = (b: Backup): string | undefined =>
  b.metadata.labels?.[LABELS.location] ?? b.spec.storageLocation;

export function backupCrTable(backups: Backup[]): string {
  const rows = backups.map((b) => [
    b.metadata.name,
    b.status?.phase ?? "New",
    String(b.status?.progress?.itemsBackedUp ?? 0),
    String(b.status?.errors ?? 0),
    String(b.status?.warnings ?? 0),
    b.metadata.creationTimestamp ?? "",
    expires(b.status?.expiration),
    backupLocation(b) ?? "<default>",
  ]);
  return formatTable(BACKUP_CR_COLUMNS, rows);
}

const labelText = (labels: Record<string, string> | undefined) =>
  orNone(Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`));

export function describeBackupCr(b: Backup, results: BackupResults | undefined, missing: string): string {
  const { spec } = b;
  const s = b.status ?? {};
  const p = s.progress ?? {};
  const lines = [
    `Name:          ${b.metadata.name}`,
    `Namespace:     ${b.metadata.namespace ?? ""}`,
    `Labels:        ${labelText(b.metadata.labels)}`,
    `Phase:         ${s.phase ?? "New"}${s.failureReason ? ` (${s.failureReason})` : ""}`,
    ...(s.validationErrors?.length ? ["Validation errors:", ...s.validationErrors.map((e) => `  ${e}`)] : []),
    `Location:      ${backupLocation(b) ?? "<default>"}`,
    `Snapshot:      ${s.snapshotID ?? "<none>"}`,
    `Created:       ${b.metadata.creationTimestamp ?? "<unknown>"} (${age(b.metadata.creationTimestamp)} ago)`,
    `Started:       ${s.startTimestamp ?? "<not started>"}`,
    `Completed:     ${s.completionTimestamp ?? "<not completed>"}`,
    `TTL:           ${spec.ttl ?? "<server default>"}`,
    `Expiration:    ${s.expiration ?? "<never>"}`,
    "",
    "Namespaces:",
    `  Included:    ${orNone(spec.includedNamespaces ?? ["*"])}`,
    `  Excluded:    ${orNone(spec.excludedNamespaces)}`,
    "Resources:",
    `  Included:    ${orNone(spec.includedResources ?? ["*"])}`,
    `  Excluded:    ${orNone(spec.excludedResources)}`,
    `  Cluster-scoped: ${spec.includeClusterResources === undefined ? "auto" : String(spec.includeClusterResources)}`,
    `Label selector: ${spec.labelSelector ?? (spec.orLabelSelectors?.length ? spec.orLabelSelectors.join(" OR ") : "<none>")}`,
    `All versions:  ${spec.allVersions ? "yes" : "no"}`,
    "",
    `Items:         ${p.itemsBackedUp ?? 0} backed up` +
      (p.resourcesTotal ? `, ${p.resourcesDone ?? 0}/${p.resourcesTotal} resource types` : "") +
      (p.bytes ? `, ${formatBytes(p.bytes)}` : ""),
    `Warnings:      ${s.warnings ?? 0}`,
    `Errors:        ${s.errors ?? 0}`,
  ];
  for (const c of s.conditions ?? [])
    lines.push(
      `Condition:     ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${c.message}` : ""}`,
    );
  if (results) lines.push(...resultsLines(results));
  else lines.push("", `Results:       ${missing}`);
  return lines.join("\n");
}
