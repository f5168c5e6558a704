// Garbage collection: a backup past its expiration gets a DeleteBackupRequest, so that expiry
// takes the same path as a deletion an operator asks for. Requests processed a day ago go.
import { randomBytes } from "node:crypto";
import { backupFinished } from "../api/backup.js";
import { LABELS } from "../api/names.js";
import type { ControllerContext } from "./context.js";

const KEEP_PROCESSED_MS = 24 * 3600_000;

export const requestName = (backup: string): string =>
  `${backup.slice(0, 240)}-${randomBytes(4).toString("hex").slice(0, 5)}`;

/** Asks for the deletion of `backup` unless a request for it is pending already. */
export async function requestDeletion(ctx: ControllerContext, backup: string): Promise<void> {
  const pending = ctx.caches.deletes
    .list()
    .some((r) => r.spec.backupName === backup && r.status?.phase !== "Processed");
  if (pending) return;
  await ctx.objects.create(
    "DeleteBackupRequest",
    requestName(backup),
    { backupName: backup },
    { [LABELS.backup]: backup },
  );
}

export async function collectGarbage(ctx: ControllerContext, now = Date.now()): Promise<void> {
  for (const b of ctx.caches.backups.list()) {
    const expiration = b.status?.expiration;
    if (!expiration || Date.parse(expiration) > now || !backupFinished(b.status?.phase)) continue;
    const location = ctx.location(b.metadata.labels?.[LABELS.location] ?? b.spec.storageLocation);
    // A ReadOnly location belongs to another cluster, whose own collector deletes it there.
    if (location?.spec.accessMode === "ReadOnly") continue;
    ctx.logger.info({ backup: b.metadata.name, expiration }, "the backup expired; deleting it");
    await requestDeletion(ctx, b.metadata.name);
  }
  for (const r of ctx.caches.deletes.list()) {
    const created = Date.parse(r.metadata.creationTimestamp ?? "");
    if (r.status?.phase === "Processed" && now - created > KEEP_PROCESSED_MS)
      await ctx.objects.delete("DeleteBackupRequest", r.metadata.name);
  }
}
