// JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386) on plain JSON values, for resource
// modifiers. Patches apply to a copy; a failed `test` or a missing path is an error naming it.
import { ArcaError } from "../common/errors.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface PatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  from?: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new ArcaError(`JSON pointer ${JSON.stringify(path)} must start with /`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const isObject = (v: unknown): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The container of the pointer's last token, and that token. */
function parentOf(doc: Json, path: string): { parent: Json[] | { [key: string]: Json }; key: string } {
  const tokens = pointer(path);
  const key = tokens.pop();
  if (key === undefined) throw new ArcaError("a patch cannot replace the whole object");
  let cur: Json = doc;
  for (const t of tokens) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (next === undefined) throw new ArcaError(`path ${path} does not exist (no ${JSON.stringify(t)})`);
    cur = next;
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new ArcaError(`path ${path} is inside a scalar`);
  return { parent: cur, key };
}

function get(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, path);
  const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (v === undefined) throw new ArcaError(`path ${path} does not exist`);
  return v;
}

function index(parent: Json[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === "-") return parent.length;
  const i = Number(key);
  if (!/^\d+$/.test(key) || i > parent.length || (!forAdd && i === parent.length))
    throw new ArcaError(`path ${path}: index ${key} is out of range`);
  return i;
}

function add(doc: Json, path: string, value: Json): void {
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(index(parent, key, path, true), 0, value);
  else parent[key] = value;
}

function remove(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) return parent.splice(index(parent, key, path, false), 1)[0] as Json;
  if (!(key in parent)) throw new ArcaError(`path ${path} does not exist`);
  const v = parent[key] as Json;
  delete parent[key];
  return v;
}

export function applyJsonPatch<T>(doc: T, ops: PatchOperation[]): T {
  const out = structuredClone(doc) as Json;
  for (const op of ops) {
    switch (op.op) {
      case "add":
        add(out, op.path, structuredClone(op.value ?? null));
        break;
      case "remove":
        remove(out, op.path);
        break;
      case "replace":
        remove(out, op.path);
        add(out, op.path, structuredClone(op.value ?? null));
        break;
      case "move":
        add(out, op.path, remove(out, op.from ?? ""));
        break;
      case "copy":
        add(out, op.path, structuredClone(get(out, op.from ?? "")));
        break;
      case "test":
        if (JSON.stringify(get(out, op.path)) !== JSON.stringify(op.value))
          throw new ArcaError(`test at ${op.path} failed: the value is not ${JSON.stringify(op.value)}`);
        break;
    }
  }
  return out as T;
}

export function applyMergePatch<T>(doc: T, patch: Json): T {
  const merge = (target: Json, p: Json): Json => {
    if (!isObject(p)) return structuredClone(p);
    const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(p)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k] ?? null, v);
    }
    return out;
  };
  return merge(doc as Json, patch) as T;
}
