// What an operator asks a backup to contain, with Velero's flag meanings, checked where it
// enters (the CLI, later the Backup CR) so the engine can trust it.
import { ArcaError } from "../common/errors.js";
import { parseSelector } from "../kube/selector.js";

export type ClusterResourcesMode = "true" | "false" | "auto";

/** Which objects: the filters that backup and restore share, with Velero's meanings. */
export interface Selection {
  includeNamespaces: string[];
  excludeNamespaces: string[];
  includeResources: string[];
  excludeResources: string[];
  /** All of it must match. */
  selector?: string;
  /** Any one of them must match; not together with `selector`. */
  orSelectors: string[];
}

export const DEFAULT_SELECTION: Selection = {
  includeNamespaces: ["*"],
  excludeNamespaces: [],
  includeResources: ["*"],
  excludeResources: [],
  orSelectors: [],
};

export interface BackupSpec extends Selection {
  includeClusterResources: ClusterResourcesMode;
  /** Every served version of each resource, not just the preferred one. */
  allVersions: boolean;
  /** How long the backup is kept, e.g. "720h"; recorded, applied by retention. */
  ttl?: string;
}

export const DEFAULT_SPEC: BackupSpec = {
  ...DEFAULT_SELECTION,
  includeClusterResources: "auto",
  allVersions: false,
};

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function checkBackupName(name: string): string {
  if (!NAME.test(name))
    throw new ArcaError(`invalid backup name ${JSON.stringify(name)}`, {
      hint: "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    });
  return name;
}

export function parseClusterResourcesMode(value: string): ClusterResourcesMode {
  if (value === "true" || value === "false" || value === "auto") return value;
  throw new ArcaError(
    `--include-cluster-resources must be true, false or auto, not ${JSON.stringify(value)}`,
  );
}

/** Durations as Go and Velero write them: 720h, 30m, 1h30m. Returns milliseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new ArcaError(`invalid duration ${JSON.stringify(text)}`, {
      hint: "write it as 720h, 90m or 1h30m",
    });
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0);
}

export function checkSelection(selection: Selection): void {
  if (selection.selector && selection.orSelectors.length)
    throw new ArcaError(
      "a label selector and or-selectors cannot be used together (--selector and --or-selector; labelSelector and orLabelSelectors)",
      {
        hint: "put the shared terms into each --or-selector",
      },
    );
  if (selection.selector) parseSelector(selection.selector);
  for (const s of selection.orSelectors) parseSelector(s);
}

export function checkSpec(spec: BackupSpec): BackupSpec {
  checkSelection(spec);
  if (spec.ttl) parseDuration(spec.ttl);
  return spec;
}
