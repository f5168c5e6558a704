// Backup: one run of the backup engine, driven by the controller through its phases.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Enum, Resource, RUN_PHASES, runFinished, runStatusFields, Time } from "./meta.js";

/** Which objects, with Velero's field names so that Velero manifests read the same. */
export const SelectionFields = {
  includedNamespaces: Type.Optional(Type.Array(Type.String(), { description: "namespace globs; * is all" })),
  excludedNamespaces: Type.Optional(Type.Array(Type.String())),
  includedResources: Type.Optional(
    Type.Array(Type.String(), { description: "plural, short name, kind or resource.group" }),
  ),
  excludedResources: Type.Optional(Type.Array(Type.String())),
  labelSelector: Type.Optional(
    Type.String({ description: "all of it must match, e.g. app=web,tier!=cache" }),
  ),
  orLabelSelectors: Type.Optional(
    Type.Array(Type.String(), { description: "any one must match; not with labelSelector" }),
  ),
};

export const BackupSpec = Type.Object({
  ...SelectionFields,
  includeClusterResources: Type.Optional(
    Type.Boolean({ description: "unset: only those related to included namespaced objects" }),
  ),
  allVersions: Type.Optional(Type.Boolean({ description: "store every served version of each resource" })),
  ttl: Type.Optional(Duration("how long the backup is kept, e.g. 720h; unset is the server default")),
  storageLocation: Type.Optional(Type.String({ description: "BackupLocation name; unset is the default" })),
});
export type BackupSpec = Static<typeof BackupSpec>;

export const BACKUP_PHASES = [...RUN_PHASES, "Deleting"] as const;
export type BackupPhase = (typeof BACKUP_PHASES)[number];

export const BackupStatus = Type.Object({
  phase: Type.Optional(Enum(BACKUP_PHASES)),
  ...runStatusFields("the restic snapshot that holds it"),
  expiration: Type.Optional(Time("when garbage collection deletes it")),
  progress: Type.Optional(
    Type.Object({
      itemsBackedUp: Type.Optional(Type.Integer()),
      bytes: Type.Optional(Type.Integer()),
      resourcesDone: Type.Optional(Type.Integer()),
      resourcesTotal: Type.Optional(Type.Integer()),
    }),
  ),
});
export type BackupStatus = Static<typeof BackupStatus>;

export const Backup = Resource("Backup", BackupSpec, BackupStatus);
export type Backup = Static<typeof Backup>;

/** Phases a backup never leaves (Deleting aside). */
export const backupFinished: (phase: BackupPhase | undefined) => boolean = runFinished;
