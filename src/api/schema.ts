// One source for each kind: a TypeBox schema gives the TypeScript type (Static), the check of
// what the API server hands the controller, and the CRD's structural openAPIV3Schema.
import { type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ArcaError } from "../common/errors.js";

/** A JSON Schema node as a CRD carries it. */
export type JsonSchema = { [key: string]: unknown };

/**
 * TypeBox's JSON Schema, rewritten into Kubernetes' structural subset: unions of string
 * literals become `enum`, `additionalProperties: false` goes (the server prunes unknown fields
 * instead), and free-form values are marked to keep their unknown fields.
 */
export function toStructural(schema: TSchema | JsonSchema): JsonSchema {
  const s = schema as JsonSchema;
  const literals = (s.anyOf as JsonSchema[] | undefined)?.map((o) => o.const);
  if (literals && literals.every((v) => typeof v === "string"))
    return withDescription(s, { type: "string", enum: literals });
  if (typeof s.const === "string") return withDescription(s, { type: "string", enum: [s.const] });
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key === "$id" || key === "additionalProperties" || key === "patternProperties") continue;
    if (key === "properties")
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v)]),
      );
    else if (key === "items") out.items = toStructural(value as JsonSchema);
    else out[key] = value;
  }
  // Maps: TypeBox writes Record as patternProperties, which CRDs do not take.
  const patterns = Object.values((s.patternProperties ?? {}) as Record<string, JsonSchema>);
  const extra = patterns[0] ?? s.additionalProperties;
  if (typeof extra === "object" && extra !== null)
    out.additionalProperties = toStructural(extra as JsonSchema);
  if (s.type === undefined && Object.keys(out).every((k) => k === "description"))
    out["x-kubernetes-preserve-unknown-fields"] = true;
  return out;
}

const withDescription = (from: JsonSchema, to: JsonSchema): JsonSchema =>
  typeof from.description === "string" ? { description: from.description, ...to } : to;

/**
 * Checks a value against its schema where it enters (a CR read from the server, a file); the
 * error names the object and each field that is wrong.
 */
export function checkValue<T extends TSchema>(schema: T, value: unknown, what: string): void {
  if (Value.Check(schema, value)) return;
  const problems = [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path || "/"}: ${e.message}`);
  throw new ArcaError(`${what} is malformed: ${problems.join("; ")}`, {
    hint: "fix the object to match the arca.dev/v1alpha1 schema (kubectl explain shows it)",
  });
}
