// When an instance starts leading, work that an earlier instance left InProgress cannot be
// resumed (the engine's state died with it). A backup whose snapshot made it is Completed;
// any other is Failed with the reason, and nothing is ever shown Completed that is not.
import { describeError } from "../common/errors.js";
import { LABELS } from "../api/names.js";
import { snapshotsNamed } from "../backup/layout.js";
import type { ControllerContext } from "./context.js";
import { openLocationRepository } from "./repos.js";

export const RESTARTED = "controller restarted";

export async function recoverInterruptedWork(ctx: ControllerContext): Promise<void> {
  for (const b of ctx.caches.backups.list()) {
    if (b.status?.phase !== "InProgress") continue;
    const name = b.metadata.name;
    const snapshot = await snapshotOf(
      ctx,
      name,
      b.metadata.labels?.[LABELS.location] ?? b.spec.storageLocation,
    );
    if (typeof snapshot === "string") {
      // The engine wrote its commit point before the controller died: the backup is whole.
      await ctx.objects.setStatus("Backup", name, {
        phase: "Completed",
        snapshotID: snapshot,
        completionTimestamp: new Date().toISOString(),
      });
      continue;
    }
    ctx.logger.warn(
      { backup: name },
      "a backup was left InProgress by an earlier controller; marking it Failed",
    );
    await ctx.objects.setStatus("Backup", name, {
      phase: "Failed",
      failureReason:
        snapshot === null
          ? `${RESTARTED} during the backup; its location could not be read to look for a snapshot. Create the backup again`
          : `${RESTARTED} during the backup; it left no snapshot. Create the backup again`,
      completionTimestamp: new Date().toISOString(),
    });
    ctx.event(b, "Warning", "Failed", RESTARTED);
  }
  for (const r of ctx.caches.restores.list()) {
    if (r.status?.phase !== "InProgress") continue;
    await ctx.objects.setStatus("Restore", r.metadata.name, {
      phase: "Failed",
      failureReason: `${RESTARTED} during the restore; some objects may have been created. Run it again (existing objects are skipped, or updated with existingResourcePolicy: update)`,
      completionTimestamp: new Date().toISOString(),
    });
    ctx.event(r, "Warning", "Failed", RESTARTED);
  }
  // Deletion is idempotent: a batch cut short simply runs again.
  for (const d of ctx.caches.deletes.list())
    if (d.status?.phase === "InProgress")
      await ctx.objects.setStatus("DeleteBackupRequest", d.metadata.name, { phase: "New" });
}

async function snapshotOf(
  ctx: ControllerContext,
  backup: string,
  locationName: string | undefined,
): Promise<string | undefined | null> {
  // undefined: looked, and there is none; null: could not look.
  const location = ctx.location(locationName);
  if (!location) return null;
  try {
    const repo = await openLocationRepository(
      { client: ctx.client, namespace: ctx.config.namespace, logger: ctx.logger },
      location,
      {
        signal: ctx.signal,
      },
    );
    try {
      return (await snapshotsNamed(repo, "backup", backup)).at(-1)?.id.toString();
    } finally {
      repo.close();
    }
  } catch (err) {
    ctx.logger.warn({ backup, error: describeError(err) }, "could not look for the backup's snapshot");
    return null;
  }
}
