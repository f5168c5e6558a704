// Resource modifiers, in Velero's file format: rules whose conditions pick objects (by
// group-resource, namespace, name regex and labels), and the JSON patches and merge patches
// to apply to them before they are created.
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { ArcaError, messageOf } from "../common/errors.js";
import type { KubeObject } from "../kube/object.js";
import { parseSelector, type LabelSelector } from "../kube/selector.js";
import { applyJsonPatch, applyMergePatch, type Json, type PatchOperation } from "./json-patch.js";

export interface ModifierRule {
  groupResource: string;
  namespaces?: string[];
  nameRegex?: RegExp;
  labels?: LabelSelector;
  patches: PatchOperation[];
  mergePatches: Json[];
}

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

type Raw = Record<string, unknown>;
const isRaw = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

function selectorText(raw: unknown, where: string): string {
  if (!isRaw(raw)) throw new ArcaError(`${where}: labelSelector must be a mapping`);
  const terms: string[] = [];
  if (isRaw(raw.matchLabels))
    for (const [k, v] of Object.entries(raw.matchLabels)) terms.push(`${k}=${String(v)}`);
  for (const e of Array.isArray(raw.matchExpressions) ? raw.matchExpressions : []) {
    if (!isRaw(e) || typeof e.key !== "string")
      throw new ArcaError(`${where}: a matchExpression needs a key`);
    const values = Array.isArray(e.values) ? e.values.map(String).join(",") : "";
    const op = String(e.operator);
    if (op === "In") terms.push(`${e.key} in (${values})`);
    else if (op === "NotIn") terms.push(`${e.key} notin (${values})`);
    else if (op === "Exists") terms.push(e.key);
    else if (op === "DoesNotExist") terms.push(`!${e.key}`);
    else
      throw new ArcaError(
        `${where}: unknown operator ${JSON.stringify(op)} (In, NotIn, Exists, DoesNotExist)`,
      );
  }
  return terms.join(",");
}

/** A string value is JSON when it parses as JSON (Velero writes "3" for 3), else a string. */
function patchValue(v: unknown): Json {
  if (typeof v !== "string") return (v ?? null) as Json;
  try {
    return JSON.parse(v) as Json;
  } catch {
    return v;
  }
}

export function parseModifiers(text: string, source: string): ModifierRule[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ArcaError(`${source} is not valid YAML: ${messageOf(err)}`);
  }
  if (!isRaw(doc) || !Array.isArray(doc.resourceModifierRules))
    throw new ArcaError(`${source}: expected a mapping with resourceModifierRules (a list)`, {
      hint: "see docs/operations.md, Resource modifiers",
    });
  return doc.resourceModifierRules.map((raw, i): ModifierRule => {
    const where = `${source}: rule ${i + 1}`;
    if (!isRaw(raw) || !isRaw(raw.conditions)) throw new ArcaError(`${where}: needs conditions`);
    const c = raw.conditions;
    if (typeof c.groupResource !== "string" || !c.groupResource)
      throw new ArcaError(`${where}: conditions.groupResource is required (e.g. deployments.apps)`);
    let nameRegex: RegExp | undefined;
    if (c.resourceNameRegex !== undefined) {
      try {
        nameRegex = new RegExp(String(c.resourceNameRegex));
      } catch (err) {
        throw new ArcaError(`${where}: resourceNameRegex: ${messageOf(err)}`);
      }
    }
    const patches = (Array.isArray(raw.patches) ? raw.patches : []).map((p, j): PatchOperation => {
      if (!isRaw(p) || !OPS.has(String(p.operation)) || typeof p.path !== "string")
        throw new ArcaError(
          `${where}, patch ${j + 1}: needs operation (add, remove, replace, move, copy, test) and path`,
        );
      return {
        op: p.operation as PatchOperation["op"],
        path: p.path,
        ...(typeof p.from === "string" ? { from: p.from } : {}),
        ...("value" in p ? { value: patchValue(p.value) } : {}),
      };
    });
    const mergePatches = (Array.isArray(raw.mergePatches) ? raw.mergePatches : []).map((m, j): Json => {
      if (!isRaw(m) || typeof m.patchData !== "string")
        throw new ArcaError(`${where}, merge patch ${j + 1}: needs patchData`);
      try {
        return parse(m.patchData) as Json;
      } catch (err) {
        throw new ArcaError(
          `${where}, merge patch ${j + 1}: patchData is not JSON or YAML: ${messageOf(err)}`,
        );
      }
    });
    if (patches.length + mergePatches.length === 0)
      throw new ArcaError(`${where}: has no patches or mergePatches`);
    return {
      groupResource: c.groupResource,
      ...(Array.isArray(c.namespaces) ? { namespaces: c.namespaces.map(String) } : {}),
      ...(nameRegex ? { nameRegex } : {}),
      ...(c.labelSelector !== undefined
        ? { labels: parseSelector(selectorText(c.labelSelector, where)) }
        : {}),
      patches,
      mergePatches,
    };
  });
}

export async function loadModifiers(path: string): Promise<ModifierRule[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ArcaError(`reading resource modifiers ${path}: ${messageOf(err)}`);
  }
  return parseModifiers(text, path);
}

/** Applies every rule that matches; the object's namespace is the one it is restored into. */
export function applyModifiers(rules: ModifierRule[], groupResource: string, o: KubeObject): KubeObject {
  let out = o;
  for (const rule of rules) {
    if (rule.groupResource !== groupResource && rule.groupResource !== "*") continue;
    if (rule.namespaces && !rule.namespaces.includes(out.metadata.namespace ?? "")) continue;
    if (rule.nameRegex && !rule.nameRegex.test(out.metadata.name)) continue;
    if (rule.labels && !rule.labels.matches(out.metadata.labels)) continue;
    if (rule.patches.length) out = applyJsonPatch(out, rule.patches);
    for (const m of rule.mergePatches) out = applyMergePatch(out, m);
  }
  return out;
}
