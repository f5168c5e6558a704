// Restore: one run of the restore engine from a Backup in a location.
import { Type, type Static } from "@sinclair/typebox";
import { SelectionFields } from "./backup.js";
import { Enum, Resource, RUN_PHASES, runFinished, runStatusFields } from "./meta.js";

const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });

export const RestoreSpec = Type.Object({
  backupName: Type.String({ description: "the Backup to restore from" }),
  ...SelectionFields,
  namespaceMapping: Type.Optional(StringMap("source namespace -> target namespace")),
  storageClassMapping: Type.Optional(StringMap("source storage class -> target storage class")),
  existingResourcePolicy: Type.Optional(Enum(["none", "update"], "what to do with objects that exist")),
  restoreStatus: Type.Optional(Type.Boolean()),
  preserveNodePorts: Type.Optional(
    Type.Boolean({
      description: "keep every node port, allocated ones too; without it only those the user chose are kept",
    }),
  ),
  dryRun: Type.Optional(Type.Boolean({ description: "validate every object on the server; change nothing" })),
});
export type RestoreSpec = Static<typeof RestoreSpec>;

export const RESTORE_PHASES = RUN_PHASES;
export type RestorePhase = (typeof RESTORE_PHASES)[number];

export const RestoreStatus = Type.Object({
  phase: Type.Optional(Enum(RESTORE_PHASES)),
  ...runStatusFields("the snapshot that keeps the restore's record"),
  progress: Type.Optional(
    Type.Object({ itemsRestored: Type.Optional(Type.Integer()), totalItems: Type.Optional(Type.Integer()) }),
  ),
});
export type RestoreStatus = Static<typeof RestoreStatus>;

export const Restore = Resource("Restore", RestoreSpec, RestoreStatus);
export type Restore = Static<typeof Restore>;

export const restoreFinished: (phase: RestorePhase | undefined) => boolean = runFinished;
