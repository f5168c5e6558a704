// Sync: the backups stored in a location become Backup objects in every cluster that uses
// it, which is how migration works (back up in cluster A, restore in cluster B). A Completed
// Backup whose snapshot has gone from the location (deleted from another cluster) goes too.
import { describeError } from "../common/errors.js";
import { backupFields } from "../api/convert.js";
import { ANNOTATIONS, LABELS } from "../api/names.js";
import type { BackupLocation } from "../api/location.js";
import { readBackupRecord } from "../backup/catalog.js";
import { taggedName, type BackupRecord } from "../backup/layout.js";
import type { Id } from "../repo/layout.js";
import { NoRepositoryError } from "../repo/repository.js";
import type { ControllerContext } from "./context.js";
import { statusOfRecord } from "./backups.js";
import { openLocationRepository } from "./repos.js";

export class SyncReconciler {
  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(name: string): Promise<number | void> {
    const location = this.ctx.caches.locations.get(name);
    if (!location) return;
    if (location.status?.phase !== "Unavailable")
      await this.ctx.quietly(`syncing backups from BackupLocation ${name}`, () =>
        this.ctx.serialized(name, () => this.sync(location)),
      );
    return this.ctx.config.syncEveryMs;
  }

  private async sync(location: BackupLocation): Promise<void> {
    const { ctx } = this;
    const listedAt = Date.now();
    let repo;
    try {
      repo = await openLocationRepository(
        { client: ctx.client, namespace: ctx.config.namespace, logger: ctx.logger },
        location,
        {
          signal: ctx.signal,
        },
      );
    } catch (err) {
      if (err instanceof NoRepositoryError) return; // nothing stored there yet
      throw err;
    }
    try {
      const stored = new Map<string, { id: Id; tree: Id }>();
      for (const { id, snapshot } of await repo.listSnapshots()) {
        const backup = taggedName(snapshot.tags, "backup");
        if (backup) stored.set(backup, { id, tree: snapshot.tree });
      }
      for (const [backup, { id, tree }] of stored) {
        if (ctx.caches.backups.get(backup)) continue;
        if (
          ctx.caches.deletes
            .list()
            .some((r) => r.spec.backupName === backup && r.status?.phase !== "Processed")
        )
          continue;
        try {
          await this.adopt(location, backup, id, await readBackupRecord(repo, tree));
        } catch (err) {
          ctx.logger.warn(
            { backup, location: location.metadata.name, error: describeError(err) },
            "could not sync a backup",
          );
        }
      }
      for (const b of ctx.caches.backups.list()) {
        const phase = b.status?.phase;
        const completed = b.status?.completionTimestamp ? Date.parse(b.status.completionTimestamp) : Infinity;
        if (b.metadata.labels?.[LABELS.location] !== location.metadata.name) continue;
        // Only backups that finished before the listing began can be told missing from it.
        if (
          (phase === "Completed" || phase === "PartiallyFailed") &&
          completed < listedAt &&
          !stored.has(b.metadata.name)
        ) {
          ctx.logger.info(
            { backup: b.metadata.name },
            "the backup is gone from its location; removing its object",
          );
          await ctx.objects.delete("Backup", b.metadata.name);
        }
      }
    } finally {
      repo.close();
    }
  }

  private async adopt(
    location: BackupLocation,
    name: string,
    snapshot: Id,
    record: BackupRecord,
  ): Promise<void> {
    const { ctx } = this;
    await ctx.objects.create(
      "Backup",
      name,
      { ...backupFields(record.spec), storageLocation: location.metadata.name },
      { [LABELS.location]: location.metadata.name },
      { [ANNOTATIONS.synced]: `${location.spec.url}#${snapshot.toString()}` },
    );
    await ctx.objects.setStatus("Backup", name, statusOfRecord(record, snapshot));
    ctx.logger.info({ backup: name, location: location.metadata.name }, "synced a backup from the location");
  }
}
