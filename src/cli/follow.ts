// --wait without --local: follow a Backup or Restore that the controller runs, by its status,
// until it reaches a phase it never leaves. A line per change (a redrawn line on a TTY), and
// the exit code scripts rely on: 0 Completed, 3 PartiallyFailed, 1 Failed or FailedValidation.
import { setTimeout as sleep } from "node:timers/promises";
import { backupFinished } from "../api/backup.js";
import type { ObjectOf } from "../api/objects.js";
import { restoreFinished } from "../api/restore.js";
import { ArcaError } from "../common/errors.js";
import type { ArcaCluster } from "./arca-cluster.js";
import { formatBytes } from "./progress.js";

type Followed = "Backup" | "Restore";

/** How often the status is read; the tests shorten it. */
const POLL_MS = Number(process.env.ARCA_POLL_MS ?? 1000);

export function progressLine(kind: Followed, o: ObjectOf<Followed>): string {
  const phase = o.status?.phase ?? "New";
  const parts = [`${kind.toLowerCase()} ${o.metadata.name}: ${phase}`];
  if (kind === "Backup") {
    const p = (o as ObjectOf<"Backup">).status?.progress;
    if (p?.itemsBackedUp !== undefined) parts.push(`${p.itemsBackedUp} items`);
    if (p?.resourcesTotal) parts.push(`${p.resourcesDone ?? 0}/${p.resourcesTotal} resource types`);
    if (p?.bytes) parts.push(formatBytes(p.bytes));
  } else {
    const p = (o as ObjectOf<"Restore">).status?.progress;
    if (p?.itemsRestored !== undefined)
      parts.push(`${p.itemsRestored}${p.totalItems ? `/${p.totalItems}` : ""} items`);
  }
  const { warnings, errors } = o.status ?? {};
  if (warnings) parts.push(`${warnings} warnings`);
  if (errors) parts.push(`${errors} errors`);
  return parts.join(", ");
}

const isFinished = (kind: Followed, o: ObjectOf<Followed>): boolean =>
  kind === "Backup"
    ? backupFinished((o as ObjectOf<"Backup">).status?.phase)
    : restoreFinished((o as ObjectOf<"Restore">).status?.phase);

/** Reads the object until it is finished; prints each change to stderr, returns the last state. */
export async function follow<K extends Followed>(
  api: ArcaCluster,
  kind: K,
  name: string,
  { json = false }: { json?: boolean } = {},
): Promise<ObjectOf<K>> {
  const tty = process.stderr.isTTY === true && !json;
  let last = "";
  for (;;) {
    const o = await api.objects.get(kind, name);
    if (!o)
      throw new ArcaError(`${kind} ${name} was deleted in namespace ${api.namespace} while waiting for it`);
    const line = progressLine(kind, o);
    if (line !== last) {
      if (json) process.stdout.write(JSON.stringify({ type: "status", name, ...o.status }) + "\n");
      else process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      last = line;
    }
    if (isFinished(kind, o)) {
      if (tty) process.stderr.write("\n");
      return o;
    }
    try {
      await sleep(POLL_MS, undefined, { signal: api.signal });
    } catch {
      if (tty) process.stderr.write("\n");
      throw new ArcaError(`stopped waiting; the ${kind.toLowerCase()} ${name} goes on in the cluster`, {
        hint: `see how it ends with \`arca ${kind.toLowerCase()} describe ${name}\``,
      });
    }
  }
}

/**
 * What a finished run means for the exit code: Completed 0; PartiallyFailed 3 (set, so that
 * the caller still prints its result); Failed and FailedValidation throw, naming the reason.
 */
export function settle(kind: Followed, o: ObjectOf<Followed>): void {
  const s = o.status ?? {};
  const name = o.metadata.name;
  const what = `${kind.toLowerCase()} ${name}`;
  if (s.phase === "PartiallyFailed") process.exitCode = 3;
  if (s.phase === "FailedValidation")
    throw new ArcaError(
      `${what} failed validation: ${(s.validationErrors ?? ["(no reason given)"]).join("; ")}`,
      {
        hint: `fix the request and create it again under another name (\`arca ${kind.toLowerCase()} describe ${name}\` shows it)`,
      },
    );
  if (s.phase === "Failed")
    throw new ArcaError(`${what} failed: ${s.failureReason ?? "(no reason given)"}`, {
      hint: `\`arca ${kind.toLowerCase()} logs ${name}\` shows its log`,
    });
}
