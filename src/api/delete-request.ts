// DeleteBackupRequest: the only way data is deleted. Deleting a Backup object never is.
import { Type, type Static } from "@sinclair/typebox";
import { Enum, Resource } from "./meta.js";

export const DeleteRequestSpec = Type.Object({
  backupName: Type.String({ description: "the Backup whose snapshot is forgotten and pruned" }),
});

export const DeleteRequestStatus = Type.Object({
  phase: Type.Optional(Enum(["New", "InProgress", "Processed"])),
  errors: Type.Optional(Type.Array(Type.String())),
});

export const DeleteBackupRequest = Resource("DeleteBackupRequest", DeleteRequestSpec, DeleteRequestStatus);
export type DeleteBackupRequest = Static<typeof DeleteBackupRequest>;
