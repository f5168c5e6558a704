// How Schedule objects print for people: the `get` table and the `describe` page, which lists
// the backups the schedule made.
import type { ObjectOf } from "../api/objects.js";
import { age, orNone } from "./arca-cluster.js";
import { backupCrTable } from "./describe-backup-cr.js";
import { formatTable } from "./output.js";

type Schedule = ObjectOf<"Schedule">;

export const SCHEDULE_COLUMNS = [
  "NAME",
  "STATUS",
  "SCHEDULE",
  "PAUSED",
  "LAST-BACKUP",
  "NEXT-RUN",
  "TTL",
  "LOCATION",
];

export function scheduleTable(schedules: Schedule[]): string {
  const rows = schedules.map((s) => [
    s.metadata.name,
    s.status?.phase ?? "New",
    `${s.spec.schedule}${s.spec.timezone ? ` (${s.spec.timezone})` : ""}`,
    s.spec.paused ? "true" : "false",
    s.status?.lastBackup ? `${age(s.status.lastBackup)} ago` : "<never>",
    s.spec.paused ? "<paused>" : (s.status?.nextRun ?? "<unknown>"),
    s.spec.template.ttl ?? "<default>",
    s.spec.template.storageLocation ?? "<default>",
  ]);
  return formatTable(SCHEDULE_COLUMNS, rows);
}

export function retentionText(r: Schedule["spec"]["retention"]): string {
  const parts = [
    r?.keepLast !== undefined ? `last ${r.keepLast}` : "",
    r?.keepDaily !== undefined ? `daily ${r.keepDaily}` : "",
    r?.keepWeekly !== undefined ? `weekly ${r.keepWeekly}` : "",
    r?.keepMonthly !== undefined ? `monthly ${r.keepMonthly}` : "",
  ].filter(Boolean);
  return parts.length ? `keep ${parts.join(", ")}` : "<none: each backup's TTL decides>";
}

export function describeScheduleText(s: Schedule, backups: ObjectOf<"Backup">[]): string {
  const { spec } = s;
  const t = spec.template;
  const st = s.status ?? {};
  const lines = [
    `Name:          ${s.metadata.name}`,
    `Namespace:     ${s.metadata.namespace ?? ""}`,
    `Phase:         ${st.phase ?? "New"}`,
    ...(st.validationErrors?.length
      ? ["Validation errors:", ...st.validationErrors.map((e) => `  ${e}`)]
      : []),
    `Schedule:      ${spec.schedule}`,
    `Time zone:     ${spec.timezone ?? "UTC"}`,
    `Paused:        ${spec.paused ? "yes" : "no"}`,
    `Skip first:    ${spec.skipImmediately ? "yes (waits for the first tick)" : "no"}`,
    `Retention:     ${retentionText(spec.retention)}`,
    "",
    "Backup template:",
    `  Location:    ${t.storageLocation ?? "<default>"}`,
    `  TTL:         ${t.ttl ?? "<server default>"}`,
    `  Namespaces:  included ${orNone(t.includedNamespaces ?? ["*"])}; excluded ${orNone(t.excludedNamespaces)}`,
    `  Resources:   included ${orNone(t.includedResources ?? ["*"])}; excluded ${orNone(t.excludedResources)}`,
    `  Cluster-scoped: ${t.includeClusterResources === undefined ? "auto" : String(t.includeClusterResources)}`,
    `  Label selector: ${t.labelSelector ?? (t.orLabelSelectors?.length ? t.orLabelSelectors.join(" OR ") : "<none>")}`,
    `  All versions: ${t.allVersions ? "yes" : "no"}`,
    "",
    `Last backup:   ${st.lastBackupName ?? "<none>"}${st.lastBackup ? ` at ${st.lastBackup}` : ""}`,
    `Last success:  ${st.lastSuccessfulBackup ?? "<none>"}`,
    `Last skipped:  ${st.lastSkipped ?? "<none>"}`,
    `Next run:      ${spec.paused ? "<paused>" : (st.nextRun ?? "<unknown>")}`,
    "",
    `Backups (${backups.length}):`,
  ];
  if (backups.length)
    lines.push(
      ...backupCrTable(backups)
        .split("\n")
        .map((l) => `  ${l}`),
    );
  return lines.join("\n");
}
