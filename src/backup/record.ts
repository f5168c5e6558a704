// The documents under /arca that describe a backup: its record (spec and status), the list of
// what it holds, the results per item, and its log.
import type { TreeBuilder } from "../snapshot/virtual.js";
import {
  BACKUP_JSON,
  LOG_JSONL,
  RESOURCE_LIST_JSON,
  RESULTS_JSON,
  type BackupPhase,
  type BackupRecord,
  type BackupResults,
  type ResourceList,
} from "./layout.js";
import { parseDuration, type BackupSpec } from "./spec.js";

export interface BackupFacts {
  phase: BackupPhase;
  started: Date;
  items: number;
  list: ResourceList;
  results: BackupResults;
  bytes: number;
  storedBytes: number;
  cluster: BackupRecord["status"]["cluster"];
}

export function backupRecord(name: string, spec: BackupSpec, facts: BackupFacts): BackupRecord {
  return {
    apiVersion: "arca.dev/v1alpha1",
    kind: "Backup",
    metadata: { name },
    spec,
    status: {
      phase: facts.phase,
      startTimestamp: facts.started.toISOString(),
      completionTimestamp: new Date().toISOString(),
      ...(spec.ttl
        ? { expiration: new Date(facts.started.getTime() + parseDuration(spec.ttl)).toISOString() }
        : {}),
      itemsBackedUp: facts.items,
      resourceTypes: Object.keys(facts.list).length,
      warnings: facts.results.warnings.length,
      errors: facts.results.errors.length,
      bytes: facts.bytes,
      storedBytes: facts.storedBytes,
      cluster: facts.cluster,
    },
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + "\n");

export async function addDocuments(
  tree: TreeBuilder,
  docs: { record: BackupRecord; list: ResourceList; results: BackupResults; log: string },
): Promise<void> {
  await tree.addFile(RESOURCE_LIST_JSON, json(docs.list));
  await tree.addFile(RESULTS_JSON, json(docs.results));
  await tree.addFile(LOG_JSONL, Buffer.from(docs.log));
  await tree.addFile(BACKUP_JSON, json(docs.record));
}
