// What an operator asks a restore to do, checked where it enters (CLI flags, later the CR).
import { ArcaError } from "../common/errors.js";
import { checkSelection, DEFAULT_SELECTION, type Selection } from "../backup/spec.js";

export type ExistingResourcePolicy = "none" | "update";

export interface RestoreSpec extends Selection {
  backup: string;
  /** source namespace -> target namespace */
  namespaceMappings: Record<string, string>;
  /** source storage class -> target storage class */
  storageClassMappings: Record<string, string>;
  existingResourcePolicy: ExistingResourcePolicy;
  restoreStatus: boolean;
  preserveNodePorts: boolean;
}

export const DEFAULT_RESTORE_SPEC: Omit<RestoreSpec, "backup"> = {
  ...DEFAULT_SELECTION,
  namespaceMappings: {},
  storageClassMappings: {},
  existingResourcePolicy: "none",
  restoreStatus: false,
  preserveNodePorts: false,
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `a:b,c:d` (repeatable) into a map; each side must be a valid name. */
export function parseMappings(entries: string[], flag: string, valid = DNS_NAME): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const [from, to, ...rest] = entry.split(":");
    if (!from || !to || rest.length || !valid.test(from) || !valid.test(to))
      throw new ArcaError(`${flag}: ${JSON.stringify(entry)} is not source:target`, {
        hint: `write it as ${flag} old:new[,old2:new2]`,
      });
    if (from in out) throw new ArcaError(`${flag}: ${from} is mapped twice`);
    out[from] = to;
  }
  return out;
}

export const parseNamespaceMappings = (entries: string[]) =>
  parseMappings(entries, "--namespace-mappings", DNS_LABEL);
export const parseStorageClassMappings = (entries: string[]) =>
  parseMappings(entries, "--storage-class-mappings");

export function parseExistingPolicy(value: string): ExistingResourcePolicy {
  if (value === "none" || value === "update") return value;
  throw new ArcaError(`--existing-resource-policy must be none or update, not ${JSON.stringify(value)}`);
}

export function checkRestoreSpec(spec: RestoreSpec): RestoreSpec {
  checkSelection(spec);
  const targets = Object.values(spec.namespaceMappings);
  if (new Set(targets).size !== targets.length)
    throw new ArcaError("--namespace-mappings maps two namespaces onto one", {
      hint: "objects of the same name would collide; restore them in two runs",
    });
  return spec;
}
