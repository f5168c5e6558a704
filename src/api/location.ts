// BackupLocation: a restic repository on object storage, and how to reach and unlock it.
import { Type, type Static } from "@sinclair/typebox";
import { Condition, Duration, Enum, Resource, Time } from "./meta.js";

const SecretKeyRef = (description: string) =>
  Type.Object(
    { name: Type.String(), key: Type.Optional(Type.String()) },
    { description: `${description} (a Secret in the controller's namespace)` },
  );

export const LocationSpec = Type.Object({
  url: Type.String({
    description: "file:///path, s3://bucket/prefix?region=..&endpoint=.., or oss://bucket/prefix?region=..",
    // No userinfo: a key in the URL would be stored in the object for anyone who can read it.
    pattern: "^(file|s3|oss)://[^:/?#@]*(/[^?#]*)?([?#][^@]*)?$",
  }),
  default: Type.Optional(Type.Boolean({ description: "used by backups that name no location" })),
  accessMode: Type.Optional(
    Enum(
      ["ReadWrite", "ReadOnly"],
      "ReadOnly: sync and restore only, as a DR cluster uses its peer's location",
    ),
  ),
  credential: Type.Optional(
    SecretKeyRef("keys access-key-id, access-key-secret and optionally security-token; unset uses the chain"),
  ),
  password: SecretKeyRef("the repository password; key defaults to password"),
  validationFrequency: Type.Optional(Duration("how often the location is checked; default 1m")),
});
export type LocationSpec = Static<typeof LocationSpec>;

export const LocationStatus = Type.Object({
  phase: Type.Optional(Enum(["Available", "Unavailable"])),
  message: Type.Optional(Type.String()),
  lastValidationTime: Type.Optional(Time("when the location was last checked")),
  lastSyncTime: Type.Optional(Time("when backups stored there were last listed")),
  conditions: Type.Optional(Type.Array(Condition)),
});
export type LocationStatus = Static<typeof LocationStatus>;

export const BackupLocation = Resource("BackupLocation", LocationSpec, LocationStatus);
export type BackupLocation = Static<typeof BackupLocation>;
