// The schema pieces that every kind shares (the plain names are in names.ts).
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from "@sinclair/typebox";
import { API_VERSION } from "./names.js";

/** The metadata the controller reads; the server's other fields pass through untouched. */
export const ObjectMeta = Type.Object({
  name: Type.String(),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  creationTimestamp: Type.Optional(Type.String()),
  deletionTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/** A union of string literals: a TypeScript union, and an `enum` in the CRD. */
export const Enum = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  ) as TUnion<TLiteral<T[number]>[]>;

/** An object of this group, with its spec and status schemas. */
export const Resource = <S extends TSchema, St extends TSchema>(kind: string, spec: S, status: St) =>
  Type.Object({
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(kind),
    metadata: ObjectMeta,
    spec,
    status: Type.Optional(status),
  });

/** The condition shape every Kubernetes controller uses. */
export const Condition = Type.Object({
  type: Type.String(),
  status: Enum(["True", "False", "Unknown"]),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String()),
});
export type Condition = Static<typeof Condition>;

/** A condition as it stands now: a list of one per type, replaced whole by a merge patch. */
export const condition = (type: string, ok: boolean, reason: string, message = ""): Condition => ({
  type,
  status: ok ? "True" : "False",
  reason,
  message: message.slice(0, 2048),
  lastTransitionTime: new Date().toISOString(),
});

export const Time = (description: string) => Type.String({ description });
export const Duration = (description: string) =>
  Type.String({ description, pattern: "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$" });

/** The phases a run (a backup or a restore) goes through. */
export const RUN_PHASES = [
  "New",
  "FailedValidation",
  "InProgress",
  "Completed",
  "PartiallyFailed",
  "Failed",
] as const;

/** Phases a run never leaves. */
export const runFinished = (phase: string | undefined): boolean =>
  phase === "Completed" || phase === "PartiallyFailed" || phase === "Failed" || phase === "FailedValidation";

/** Status fields every run has; each kind adds its phase list and its progress. */
export const runStatusFields = (snapshot: string) => ({
  validationErrors: Type.Optional(Type.Array(Type.String())),
  failureReason: Type.Optional(Type.String()),
  startTimestamp: Type.Optional(Time("when the engine started")),
  completionTimestamp: Type.Optional(Time("when the engine finished")),
  warnings: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Integer()),
  snapshotID: Type.Optional(Type.String({ description: snapshot })),
  conditions: Type.Optional(Type.Array(Condition)),
});
