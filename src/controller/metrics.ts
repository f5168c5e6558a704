// What the controller tells Prometheus on /metrics: work by phase, durations, sizes, the last
// success per schedule, and each location's health.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();

  readonly backups = new Counter({
    name: "arca_backups_total",
    help: "Backups that finished, by phase",
    labelNames: ["phase", "schedule"] as const,
    registers: [this.registry],
  });
  readonly restores = new Counter({
    name: "arca_restores_total",
    help: "Restores that finished, by phase",
    labelNames: ["phase"] as const,
    registers: [this.registry],
  });
  readonly backupDuration = new Histogram({
    name: "arca_backup_duration_seconds",
    help: "How long backups took",
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [this.registry],
  });
  readonly restoreDuration = new Histogram({
    name: "arca_restore_duration_seconds",
    help: "How long restores took",
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [this.registry],
  });
  readonly backupItems = new Counter({
    name: "arca_backup_items_total",
    help: "Objects backed up",
    registers: [this.registry],
  });
  readonly backupBytes = new Counter({
    name: "arca_backup_bytes_total",
    help: "Bytes of objects backed up, before deduplication",
    registers: [this.registry],
  });
  readonly restoreItems = new Counter({
    name: "arca_restore_items_total",
    help: "Objects restored",
    registers: [this.registry],
  });
  readonly inProgress = new Gauge({
    name: "arca_work_in_progress",
    help: "Backups and restores running now",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly lastScheduleSuccess = new Gauge({
    name: "arca_schedule_last_success_timestamp_seconds",
    help: "When the newest backup of each schedule completed",
    labelNames: ["schedule"] as const,
    registers: [this.registry],
  });
  readonly locationAvailable = new Gauge({
    name: "arca_location_available",
    help: "1 when the location's last check passed",
    labelNames: ["location"] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: "arca_leader",
    help: "1 while this instance holds the lease and works",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "arca_process_" });
  }
}
