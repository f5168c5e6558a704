// DeleteBackupRequests: the only path by which data goes. The snapshots of every pending
// request for one location are forgotten together and the location is pruned once; then the
// Backup objects go. Deleting a Backup object by hand deletes no data (sync brings it back).
import { describeError } from "../common/errors.js";
import { LABELS } from "../api/names.js";
import type { DeleteBackupRequest } from "../api/delete-request.js";
import { deleteBackups } from "../backup/catalog.js";
import { LockedError } from "../repo/lock.js";
import type { ControllerContext } from "./context.js";
import { openLocationRepository } from "./repos.js";

export class DeletionReconciler {
  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(name: string): Promise<number | void> {
    const { ctx } = this;
    // Read afresh: the cache may not yet show what this worker wrote a moment ago.
    const request = await ctx.objects.get("DeleteBackupRequest", name);
    if (!request || (request.status?.phase ?? "New") === "Processed") return;
    const backup = ctx.caches.backups.get(request.spec.backupName);
    if (!backup)
      return this.processed(request, [
        `Backup ${request.spec.backupName} does not exist in namespace ${ctx.config.namespace}; nothing was deleted`,
      ]);
    const phase = backup.status?.phase ?? "New";
    if (phase === "New" || phase === "InProgress") return 5000; // deleted once it has finished
    const locationName = backup.metadata.labels?.[LABELS.location] ?? backup.spec.storageLocation;
    const location = ctx.location(locationName);
    if (!location)
      return this.processed(request, [
        `the location of Backup ${backup.metadata.name} (${locationName ?? "default"}) does not exist`,
      ]);
    if (location.spec.accessMode === "ReadOnly")
      return this.processed(request, [
        `BackupLocation ${location.metadata.name} is ReadOnly; delete the backup from a cluster that writes to it`,
      ]);
    // Every request waiting for the same location joins this batch.
    const batch = ctx.caches.deletes.list().filter((r) => {
      if ((r.status?.phase ?? "New") === "Processed") return false;
      const b = ctx.caches.backups.get(r.spec.backupName);
      const bPhase = b?.status?.phase ?? "New";
      const l = b?.metadata.labels?.[LABELS.location] ?? b?.spec.storageLocation;
      return (
        b &&
        bPhase !== "New" &&
        bPhase !== "InProgress" &&
        ctx.location(l)?.metadata.name === location.metadata.name
      );
    });
    const backups = [...new Set(batch.map((r) => r.spec.backupName))];
    for (const r of batch)
      await ctx.objects.setStatus("DeleteBackupRequest", r.metadata.name, { phase: "InProgress" });
    const phases = new Map(backups.map((b) => [b, ctx.caches.backups.get(b)?.status?.phase ?? "Completed"]));
    for (const b of backups) await ctx.objects.setStatus("Backup", b, { phase: "Deleting" });
    try {
      await ctx.serialized(location.metadata.name, async () => {
        const repo = await openLocationRepository(
          { client: ctx.client, namespace: ctx.config.namespace, logger: ctx.logger },
          location,
          { signal: ctx.signal },
        );
        try {
          const { forgotten, prune } = await deleteBackups(repo, backups);
          ctx.logger.info(
            { backups, snapshots: forgotten.length, packsDeleted: prune.packsDeleted },
            "deleted backups",
          );
        } finally {
          repo.close();
        }
      });
    } catch (err) {
      // Someone holds the repository (a backup running from another cluster): try again later.
      const retry = err instanceof LockedError;
      for (const r of batch)
        await ctx.objects.setStatus("DeleteBackupRequest", r.metadata.name, {
          phase: retry ? "New" : "Processed",
          errors: [describeError(err)],
        });
      // The data may all still be there: the backups go back to how they were.
      for (const b of backups) await ctx.objects.setStatus("Backup", b, { phase: phases.get(b) });
      return retry ? 30_000 : undefined;
    }
    for (const b of backups) await ctx.objects.delete("Backup", b);
    for (const r of batch) await this.processed(r, []);
  }

  private async processed(request: DeleteBackupRequest, errors: string[]): Promise<void> {
    await this.ctx.objects.setStatus("DeleteBackupRequest", request.metadata.name, {
      phase: "Processed",
      errors,
    });
    this.ctx.event(
      request,
      errors.length ? "Warning" : "Normal",
      errors.length ? "DeleteFailed" : "Deleted",
      errors.join("; ") || `backup ${request.spec.backupName} deleted`,
    );
  }
}
