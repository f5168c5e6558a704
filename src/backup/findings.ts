// What a backup finds on its way: warnings, errors, types skipped and related items brought in.
// Each is recorded once here and goes to the backup's results (/arca/results.json), its log
// and the progress display alike.
import type { Progress } from "../common/progress.js";
import type { Journal } from "./journal.js";
import type { BackupResults, ItemProblem, RelatedInclusion } from "./layout.js";

export class Findings {
  readonly results: BackupResults = { warnings: [], errors: [], skipped: [], related: [] };

  constructor(
    private readonly journal: Journal,
    private readonly progress: Progress,
  ) {}

  warn(p: ItemProblem): void {
    this.results.warnings.push(p);
    this.note("warn", p);
  }

  error(p: ItemProblem): void {
    this.results.errors.push(p);
    this.note("error", p);
  }

  skipped(resource: string, reason: string): void {
    this.results.skipped.push({ resource, reason });
  }

  related(item: RelatedInclusion, key: string): void {
    this.results.related.push(item);
    this.journal.info("included a related item", { item: key, from: item.from, reason: item.reason });
  }

  /** Warnings and errors so far. */
  get problems(): number {
    return this.results.warnings.length + this.results.errors.length;
  }

  /** How the backup ends: an error anywhere makes it PartiallyFailed. */
  get phase(): "Completed" | "PartiallyFailed" {
    return this.results.errors.length > 0 ? "PartiallyFailed" : "Completed";
  }

  private note(level: "warn" | "error", p: ItemProblem): void {
    this.journal[level](p.message, { resource: p.resource, namespace: p.namespace, name: p.name });
    this.progress.warning(`${[p.resource, p.namespace, p.name].filter(Boolean).join("/")}: ${p.message}`);
  }
}
