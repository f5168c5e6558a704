// Every kind of the group in one table: its schema, its REST names and what `kubectl get`
// shows. The CRDs, the controller's resource paths and the install RBAC all read it.
import type { TSchema } from "@sinclair/typebox";
import type { ApiResource } from "../kube/resources.js";
import { Backup } from "./backup.js";
import { DeleteBackupRequest } from "./delete-request.js";
import { BackupLocation } from "./location.js";
import { GROUP, VERSION } from "./names.js";
import { Restore } from "./restore.js";
import { Schedule } from "./schedule.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date" | "boolean";
  jsonPath: string;
  description?: string;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: TSchema;
  columns: PrinterColumn[];
}

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const phase: PrinterColumn = { name: "Phase", type: "string", jsonPath: ".status.phase" };

export const KINDS = {
  BackupLocation: {
    kind: "BackupLocation",
    plural: "backuplocations",
    singular: "backuplocation",
    shortNames: ["bl"],
    schema: BackupLocation,
    columns: [
      phase,
      { name: "URL", type: "string", jsonPath: ".spec.url" },
      { name: "Default", type: "boolean", jsonPath: ".spec.default" },
      { name: "Last Validated", type: "date", jsonPath: ".status.lastValidationTime" },
      age,
    ],
  },
  Backup: {
    kind: "Backup",
    plural: "backups",
    singular: "backup",
    shortNames: ["bk"],
    schema: Backup,
    columns: [
      phase,
      { name: "Items", type: "integer", jsonPath: ".status.progress.itemsBackedUp" },
      { name: "Errors", type: "integer", jsonPath: ".status.errors" },
      { name: "Warnings", type: "integer", jsonPath: ".status.warnings" },
      { name: "Location", type: "string", jsonPath: ".spec.storageLocation" },
      age,
      // A date column would print "<invalid>" for a time in the future.
      { name: "Expires", type: "string", jsonPath: ".status.expiration" },
    ],
  },
  Restore: {
    kind: "Restore",
    plural: "restores",
    singular: "restore",
    shortNames: ["rs"],
    schema: Restore,
    columns: [
      { name: "Backup", type: "string", jsonPath: ".spec.backupName" },
      phase,
      { name: "Items", type: "integer", jsonPath: ".status.progress.itemsRestored" },
      { name: "Errors", type: "integer", jsonPath: ".status.errors" },
      { name: "Warnings", type: "integer", jsonPath: ".status.warnings" },
      age,
    ],
  },
  Schedule: {
    kind: "Schedule",
    plural: "schedules",
    singular: "schedule",
    shortNames: ["sch"],
    schema: Schedule,
    columns: [
      phase,
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
      { name: "Paused", type: "boolean", jsonPath: ".spec.paused" },
      { name: "Last Backup", type: "date", jsonPath: ".status.lastBackup" },
      age,
    ],
  },
  DeleteBackupRequest: {
    kind: "DeleteBackupRequest",
    plural: "deletebackuprequests",
    singular: "deletebackuprequest",
    shortNames: ["dbr"],
    schema: DeleteBackupRequest,
    columns: [{ name: "Backup", type: "string", jsonPath: ".spec.backupName" }, phase, age],
  },
} satisfies Record<string, KindDefinition>;

export type KindName = keyof typeof KINDS;

/** The REST coordinates of a kind, for the kube layer's requests. */
export function apiResource(name: KindName): ApiResource {
  const k = KINDS[name];
  return {
    group: GROUP,
    version: VERSION,
    resource: k.plural,
    kind: k.kind,
    namespaced: true,
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    shortNames: k.shortNames,
    preferred: true,
  };
}
