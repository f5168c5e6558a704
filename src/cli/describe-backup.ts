// How backups print for people: the `get` table and the `describe` page.
import type { BackupDetails, BackupEntry } from "../backup/catalog.js";
import type { BackupResults, ItemProblem } from "../backup/layout.js";
import { shortId } from "../repo/layout.js";
import { formatBytes } from "./progress.js";

export const BACKUP_COLUMNS = [
  "NAME",
  "PHASE",
  "ITEMS",
  "WARNINGS",
  "ERRORS",
  "CREATED",
  "EXPIRES",
  "SNAPSHOT",
];

export function backupRows(entries: BackupEntry[]): string[][] {
  return entries.map((b) => {
    const s = b.record?.status;
    return [
      b.name,
      s?.phase ?? `unreadable: ${b.problem ?? "?"}`,
      String(s?.itemsBackedUp ?? ""),
      String(s?.warnings ?? ""),
      String(s?.errors ?? ""),
      s?.startTimestamp ?? b.snapshotTime,
      s?.expiration ?? "never",
      shortId(b.snapshot),
    ];
  });
}

const orNone = (values: string[] | undefined) => (values && values.length ? values.join(", ") : "<none>");

export function describeBackupText(d: BackupDetails, location: string, details: boolean): string {
  const { spec, status } = d.record;
  const lines = [
    `Name:          ${d.name}`,
    `Phase:         ${status.phase}${status.failureReason ? ` (${status.failureReason})` : ""}`,
    `Location:      ${location}`,
    `Snapshot:      ${d.snapshot}`,
    `Cluster:       ${status.cluster.server}${status.cluster.version ? ` (${status.cluster.version})` : ""}`,
    `Started:       ${status.startTimestamp}`,
    `Completed:     ${status.completionTimestamp ?? "<not completed>"}`,
    `Expiration:    ${status.expiration ?? "<never>"}`,
    "",
    "Namespaces:",
    `  Included:    ${orNone(spec.includeNamespaces)}`,
    `  Excluded:    ${orNone(spec.excludeNamespaces)}`,
    "Resources:",
    `  Included:    ${orNone(spec.includeResources)}`,
    `  Excluded:    ${orNone(spec.excludeResources)}`,
    `  Cluster-scoped: ${spec.includeClusterResources}`,
    `Label selector: ${spec.selector ?? (spec.orSelectors.length ? spec.orSelectors.join(" OR ") : "<none>")}`,
    `All versions:  ${spec.allVersions ? "yes" : "no"}`,
    "",
    `Items:         ${status.itemsBackedUp} in ${status.resourceTypes} resource types, ${formatBytes(status.bytes)}`,
    "",
    "Resource list:",
  ];
  for (const [resource, names] of Object.entries(d.resources).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${resource} (${names.length})`);
    if (details) for (const n of names) lines.push(`    - ${n}`);
  }
  lines.push(...resultsLines(d.results));
  return lines.join("\n");
}

/** A backup's results.json for people: related items, skipped types, warnings and errors. */
export function resultsLines(results: BackupResults): string[] {
  const lines: string[] = [];
  if (results.related.length) {
    lines.push("", "Included because other items need them:");
    for (const r of results.related)
      lines.push(
        `  ${r.resource}/${r.namespace ? `${r.namespace}/` : ""}${r.name}: ${r.reason} (for ${r.from})`,
      );
  }
  if (results.skipped.length) {
    lines.push("", "Resource types never backed up:");
    for (const s of results.skipped) lines.push(`  ${s.resource}: ${s.reason}`);
  }
  const problems = (title: string, list: ItemProblem[]) => {
    lines.push("", `${title} (${list.length}):${list.length ? "" : " <none>"}`);
    for (const p of list)
      lines.push(`  ${[p.resource, p.namespace, p.name].filter(Boolean).join("/")}: ${p.message}`);
  };
  problems("Warnings", results.warnings);
  problems("Errors", results.errors);
  return lines;
}
