// BackupLocations: each is opened on its own period (spec.validationFrequency). A location
// that opens is Available; one that does not is Unavailable with the reason, and backups into
// it fail at once with that reason instead of retrying against a dead endpoint.
import { describeError } from "../common/errors.js";
import { parseDuration } from "../backup/spec.js";
import type { BackupLocation, LocationStatus } from "../api/location.js";
import { condition } from "../api/meta.js";
import type { ControllerContext } from "./context.js";
import { openLocationRepository } from "./repos.js";

/** An operator is waiting on the answer: a few quick attempts, not a minute of retries. */
const VALIDATION_RETRY = { attempts: 2, baseDelayMs: 200, maxDelayMs: 1000 };

export class LocationReconciler {
  private readonly checkedAt = new Map<string, { at: number; generation?: number }>();

  constructor(private readonly ctx: ControllerContext) {}

  periodOf(location: BackupLocation): number {
    const f = location.spec.validationFrequency;
    return f ? Math.max(1000, parseDuration(f)) : this.ctx.config.validationEveryMs;
  }

  async reconcile(name: string): Promise<number | void> {
    const { ctx } = this;
    const location = ctx.caches.locations.get(name);
    if (!location) {
      this.checkedAt.delete(name);
      ctx.metrics.locationAvailable.remove({ location: name });
      return;
    }
    const period = this.periodOf(location);
    const last = this.checkedAt.get(name);
    const changed = last?.generation !== location.metadata.generation;
    if (last && !changed && Date.now() - last.at < period) return last.at + period - Date.now();
    this.checkedAt.set(name, { at: Date.now(), generation: location.metadata.generation });
    const status = await this.validate(location);
    const before = location.status;
    await ctx.objects.setStatus("BackupLocation", name, status);
    ctx.metrics.locationAvailable.set({ location: name }, status.phase === "Available" ? 1 : 0);
    if (before?.phase !== status.phase) {
      ctx.event(
        location,
        status.phase === "Available" ? "Normal" : "Warning",
        status.phase ?? "",
        status.message ?? "",
      );
      // Sync right away when a location comes (back): its backups should appear.
      if (status.phase === "Available") ctx.queues.sync.add(name);
    }
    this.warnAboutDefaults();
    return period;
  }

  private async validate(location: BackupLocation): Promise<LocationStatus> {
    const now = new Date().toISOString();
    try {
      const repo = await openLocationRepository(
        { client: this.ctx.client, namespace: this.ctx.config.namespace, logger: this.ctx.logger },
        location,
        {
          create: true,
          signal: this.ctx.signal,
          retry: VALIDATION_RETRY,
          requestTimeoutMs: 15_000,
          index: false,
        },
      );
      const id = repo.config.id;
      repo.close();
      const message = `repository ${id.slice(0, 8)} opened`;
      return {
        phase: "Available",
        message,
        lastValidationTime: now,
        conditions: [condition("Available", true, "Validated", message)],
      };
    } catch (err) {
      const message = describeError(err);
      return {
        phase: "Unavailable",
        message,
        lastValidationTime: now,
        conditions: [condition("Available", false, "ValidationFailed", message)],
      };
    }
  }

  /** One default location: two are a mistake the operator should hear about. */
  private warnAboutDefaults(): void {
    const defaults = this.ctx.caches.locations.list().filter((l) => l.spec.default);
    if (defaults.length > 1)
      this.ctx.logger.warn(
        { locations: defaults.map((l) => l.metadata.name) },
        "more than one BackupLocation is marked default; backups that name none use the first",
      );
  }
}
