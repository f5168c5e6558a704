// A restore's record: the counts and phase from the per-item results, and (for a real run) the
// small snapshot that keeps it in the location.
import { TAG_ARCA } from "../backup/layout.js";
import type { Id } from "../repo/layout.js";
import type { Repository } from "../repo/repository.js";
import { commitTree, TreeBuilder } from "../snapshot/virtual.js";
import {
  RESTORE_JSON,
  RESTORE_LOG_JSONL,
  RESTORE_RESULTS_JSON,
  restoreTag,
  type ItemOutcome,
  type RestoreRecord,
  type RestoreResults,
} from "./layout.js";
import type { RestoreSpec } from "./spec.js";

export function restoreRecord(
  name: string,
  spec: RestoreSpec,
  facts: {
    results: RestoreResults;
    /** CRD name -> why its custom resources were not restored. */
    crdsNotReady: Map<string, string>;
    dryRun: boolean;
    started: Date;
    server: string;
  },
): RestoreRecord {
  const { items, warnings } = facts.results;
  const count = (...outcomes: ItemOutcome[]) => items.filter((r) => outcomes.includes(r.outcome)).length;
  const counts = {
    total: items.length,
    created: count("created", "create"),
    updated: count("updated", "update"),
    skipped: count("skipped", "skip", "conflict"),
    failed: count("failed", "fail"),
    warnings: warnings.length,
  };
  const reasons: string[] = [];
  if (counts.failed)
    reasons.push(`${counts.failed} of ${counts.total} items failed; see the per-item results`);
  for (const why of facts.crdsNotReady.values()) reasons.push(`custom resources were not restored: ${why}`);
  return {
    apiVersion: "arca.dev/v1alpha1",
    kind: "Restore",
    metadata: { name },
    spec,
    status: {
      phase: reasons.length ? "PartiallyFailed" : "Completed",
      dryRun: facts.dryRun,
      startTimestamp: facts.started.toISOString(),
      completionTimestamp: new Date().toISOString(),
      counts,
      reasons,
      cluster: { server: facts.server },
    },
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + "\n");

export async function saveRestoreRecord(
  repo: Repository,
  record: RestoreRecord,
  results: RestoreResults,
  log: string,
  options: { started: Date; hostname?: string },
): Promise<Id> {
  const tree = new TreeBuilder(repo, { time: options.started });
  await tree.addFile(RESTORE_JSON, json(record));
  await tree.addFile(RESTORE_RESULTS_JSON, json(results));
  await tree.addFile(RESTORE_LOG_JSONL, Buffer.from(log));
  return commitTree(repo, tree, {
    time: options.started,
    tags: [TAG_ARCA, restoreTag(record.metadata.name)],
    ...(options.hostname ? { hostname: options.hostname } : {}),
  });
}
