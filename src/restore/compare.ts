// Does the live object already hold what the restore would write? The desired object is the
// reference: every field it sets must be equal in the live one. Fields the server added
// (defaults, status, its own metadata) are not differences; Arca's own labels are ignored.
import { LABEL_BACKUP, LABEL_RESTORE } from "./transform.js";

export interface Difference {
  path: string;
  live: unknown;
  desired: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const escape = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** The desired object without Arca's own labels, which an earlier restore may or may not have set. */
function comparable(desired: unknown): unknown {
  if (!isObj(desired) || !isObj(desired.metadata) || !isObj(desired.metadata.labels)) return desired;
  const labels = { ...desired.metadata.labels };
  delete labels[LABEL_BACKUP];
  delete labels[LABEL_RESTORE];
  const metadata: Record<string, unknown> = { ...desired.metadata, labels };
  if (Object.keys(labels).length === 0) delete metadata.labels;
  return { ...desired, metadata };
}

function diff(desired: unknown, live: unknown, path: string): Difference[] {
  if (isObj(desired)) {
    if (!isObj(live)) return [{ path: path || "/", live, desired }];
    return Object.entries(desired).flatMap(([k, v]) => diff(v, live[k], `${path}/${escape(k)}`));
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return [{ path, live, desired }];
    return desired.flatMap((v, i) => diff(v, live[i], `${path}/${i}`));
  }
  return desired === live ? [] : [{ path, live, desired }];
}

export function differences(desired: unknown, live: unknown): Difference[] {
  return diff(comparable(desired), live, "");
}

export function formatDifferences(diffs: Difference[], max = 20): string[] {
  const shown = diffs
    .slice(0, max)
    .map((d) => `${d.path}: ${JSON.stringify(d.live) ?? "<absent>"} -> ${JSON.stringify(d.desired)}`);
  if (diffs.length > max) shown.push(`... and ${diffs.length - max} more`);
  return shown;
}
