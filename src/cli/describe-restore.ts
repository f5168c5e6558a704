// How restores print for people: the result of a run (or a dry run), and `describe`.
import type { RestoreRecord, RestoreResults } from "../restore/layout.js";
import { formatTable } from "./output.js";

export const RESTORE_COLUMNS = [
  "NAME",
  "BACKUP",
  "PHASE",
  "CREATED",
  "UPDATED",
  "SKIPPED",
  "FAILED",
  "STARTED",
];

export function restoreRows(
  entries: Array<{ name: string; record?: RestoreRecord; problem?: string }>,
): string[][] {
  return entries.map(({ name, record, problem }) => {
    const c = record?.status.counts;
    return [
      name,
      record?.spec.backup ?? "",
      record?.status.phase ?? `unreadable: ${problem ?? "?"}`,
      String(c?.created ?? ""),
      String(c?.updated ?? ""),
      String(c?.skipped ?? ""),
      String(c?.failed ?? ""),
      record?.status.startTimestamp ?? "",
    ];
  });
}

export function itemTable(results: RestoreResults): string {
  const rows = results.items.map((i) => [
    i.outcome.toUpperCase(),
    i.resource,
    i.namespace ?? "",
    i.name,
    i.reason ?? "",
  ]);
  const table = formatTable(["ACTION", "RESOURCE", "NAMESPACE", "NAME", "REASON"], rows);
  const diffs = results.items
    .filter((i) => i.diff?.length)
    .map(
      (i) =>
        `${i.resource} ${i.namespace ? `${i.namespace}/` : ""}${i.name} (live -> backup):\n${(i.diff ?? []).map((d) => `  ${d}`).join("\n")}`,
    );
  return [table, ...(diffs.length ? ["", "Differences:", ...diffs] : [])].join("\n");
}

export function summaryLine(record: RestoreRecord): string {
  const c = record.status.counts;
  const verb = record.status.dryRun ? "would create" : "created";
  return (
    `restore ${record.metadata.name}${record.status.dryRun ? " (dry run)" : ""}: ${record.status.phase}; ` +
    `${verb} ${c.created}, ${record.status.dryRun ? "would update" : "updated"} ${c.updated}, skipped ${c.skipped}, ` +
    `failed ${c.failed} of ${c.total}` +
    (record.status.reasons.length ? `\n${record.status.reasons.map((r) => `  ${r}`).join("\n")}` : "")
  );
}

export function describeRestoreText(
  record: RestoreRecord,
  results: RestoreResults,
  location: string,
): string {
  const { spec, status } = record;
  const map = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([a, b]) => `${a}:${b}`)
      .join(", ") || "<none>";
  return [
    `Name:          ${record.metadata.name}`,
    `Backup:        ${spec.backup}`,
    `Phase:         ${status.phase}${status.dryRun ? " (dry run)" : ""}`,
    ...status.reasons.map((r) => `               ${r}`),
    `Location:      ${location}`,
    `Cluster:       ${status.cluster.server}`,
    `Started:       ${status.startTimestamp}`,
    `Completed:     ${status.completionTimestamp}`,
    "",
    `Namespaces:    included ${spec.includeNamespaces.join(", ")}; excluded ${spec.excludeNamespaces.join(", ") || "<none>"}`,
    `Resources:     included ${spec.includeResources.join(", ")}; excluded ${spec.excludeResources.join(", ") || "<none>"}`,
    `Namespace mappings:     ${map(spec.namespaceMappings)}`,
    `Storage class mappings: ${map(spec.storageClassMappings)}`,
    `Existing resources:     ${spec.existingResourcePolicy}`,
    "",
    `Items: ${status.counts.total} (created ${status.counts.created}, updated ${status.counts.updated}, skipped ${status.counts.skipped}, failed ${status.counts.failed})`,
    "",
    itemTable(results),
    "",
    `Warnings (${results.warnings.length}):${results.warnings.length ? "" : " <none>"}`,
    ...results.warnings.map((w) => `  ${w}`),
  ].join("\n");
}
