// A restore's record: what was asked, how it ended, and one result per item. In client-side
// mode it is kept in the location as a small snapshot tagged `restore=<name>` (docs/format.md).
import type { RestoreSpec } from "./spec.js";

export const restoreTag = (name: string): string => `restore=${name}`;
export const RESTORE_JSON = "/arca/restore.json";
export const RESTORE_RESULTS_JSON = "/arca/results.json";
export const RESTORE_LOG_JSONL = "/arca/log.jsonl";

export type RestorePhase = "Completed" | "PartiallyFailed" | "Failed";

/** In a real restore: created, updated, skipped, failed. In a dry run: what would happen. */
export type ItemOutcome =
  "created" | "updated" | "skipped" | "failed" | "create" | "update" | "skip" | "conflict" | "fail";

export interface ItemResult {
  resource: string;
  namespace?: string;
  name: string;
  outcome: ItemOutcome;
  reason?: string;
  /** Live value -> restored value, for updates and conflicts. */
  diff?: string[];
}

export interface RestoreCounts {
  total: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  warnings: number;
}

export interface RestoreRecord {
  apiVersion: "arca.dev/v1alpha1";
  kind: "Restore";
  metadata: { name: string };
  spec: RestoreSpec;
  status: {
    phase: RestorePhase;
    dryRun: boolean;
    startTimestamp: string;
    completionTimestamp: string;
    counts: RestoreCounts;
    /** Why the phase is not Completed, in a sentence. */
    reasons: string[];
    cluster: { server: string };
  };
}

export interface RestoreResults {
  items: ItemResult[];
  warnings: string[];
}
