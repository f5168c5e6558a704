// How Restore objects in the cluster print for people: the `get` table and the `describe` page
// (the item results come from the ConfigMap the controller keeps once the restore finished).
import type { ObjectOf } from "../api/objects.js";
import type { RestoreResults } from "../restore/layout.js";
import { age, orNone } from "./arca-cluster.js";
import { itemTable } from "./describe-restore.js";
import { formatTable } from "./output.js";

type Restore = ObjectOf<"Restore">;

export const RESTORE_CR_COLUMNS = [
  "NAME",
  "BACKUP",
  "STATUS",
  "ITEMS",
  "ERRORS",
  "WARNINGS",
  "DRY-RUN",
  "CREATED",
];

export function restoreCrTable(restores: Restore[]): string {
  const rows = restores.map((r) => [
    r.metadata.name,
    r.spec.backupName,
    r.status?.phase ?? "New",
    String(r.status?.progress?.itemsRestored ?? 0),
    String(r.status?.errors ?? 0),
    String(r.status?.warnings ?? 0),
    r.spec.dryRun ? "yes" : "no",
    r.metadata.creationTimestamp ?? "",
  ]);
  return formatTable(RESTORE_CR_COLUMNS, rows);
}

const mapText = (m: Record<string, string> | undefined) =>
  orNone(Object.entries(m ?? {}).map(([a, b]) => `${a}:${b}`));

export function describeRestoreCr(r: Restore, results: RestoreResults | undefined, missing: string): string {
  const { spec } = r;
  const s = r.status ?? {};
  const lines = [
    `Name:          ${r.metadata.name}`,
    `Namespace:     ${r.metadata.namespace ?? ""}`,
    `Backup:        ${spec.backupName}`,
    `Phase:         ${s.phase ?? "New"}${spec.dryRun ? " (dry run)" : ""}${s.failureReason ? ` (${s.failureReason})` : ""}`,
    ...(s.validationErrors?.length ? ["Validation errors:", ...s.validationErrors.map((e) => `  ${e}`)] : []),
    `Created:       ${r.metadata.creationTimestamp ?? "<unknown>"} (${age(r.metadata.creationTimestamp)} ago)`,
    `Started:       ${s.startTimestamp ?? "<not started>"}`,
    `Completed:     ${s.completionTimestamp ?? "<not completed>"}`,
    "",
    `Namespaces:    included ${orNone(spec.includedNamespaces ?? ["*"])}; excluded ${orNone(spec.excludedNamespaces)}`,
    `Resources:     included ${orNone(spec.includedResources ?? ["*"])}; excluded ${orNone(spec.excludedResources)}`,
    `Label selector: ${spec.labelSelector ?? (spec.orLabelSelectors?.length ? spec.orLabelSelectors.join(" OR ") : "<none>")}`,
    `Namespace mappings:     ${mapText(spec.namespaceMapping)}`,
    `Storage class mappings: ${mapText(spec.storageClassMapping)}`,
    `Existing resources:     ${spec.existingResourcePolicy ?? "none"}`,
    `Restore status:         ${spec.restoreStatus ? "yes" : "no"}`,
    `Preserve node ports:    ${spec.preserveNodePorts ? "yes" : "no"}`,
    "",
    `Items:         ${s.progress?.itemsRestored ?? 0}${s.progress?.totalItems ? ` of ${s.progress.totalItems}` : ""} restored`,
    `Warnings:      ${s.warnings ?? 0}`,
    `Errors:        ${s.errors ?? 0}`,
  ];
  for (const c of s.conditions ?? [])
    lines.push(
      `Condition:     ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${c.message}` : ""}`,
    );
  if (results) {
    lines.push("", itemTable(results), "");
    lines.push(`Warnings (${results.warnings.length}):${results.warnings.length ? "" : " <none>"}`);
    lines.push(...results.warnings.map((w) => `  ${w}`));
  } else lines.push("", `Results:       ${missing}`);
  return lines.join("\n");
}
