// The end of a backup: the documents under /arca that describe it (its record, the list of
// what it holds, the results per item, its log), then the snapshot, the commit point.
import type { Id } from "../repo/layout.js";
import type { Repository } from "../repo/repository.js";
import { commitTree, type TreeBuilder } from "../snapshot/virtual.js";
import {
  backupTag,
  BACKUP_JSON,
  LOG_JSONL,
  RESOURCE_LIST_JSON,
  RESULTS_JSON,
  type BackupPhase,
  type BackupRecord,
  type BackupResults,
  type ResourceList,
  resourceListOf,
  TAG_ARCA,
} from "./layout.js";
import { parseDuration, type BackupSpec } from "./spec.js";

export interface BackupFacts {
  name: string;
  spec: BackupSpec;
  phase: BackupPhase;
  started: Date;
  items: number;
  results: BackupResults;
  log: string;
  cluster: BackupRecord["status"]["cluster"];
  hostname?: string;
  programVersion?: string;
}

/**
 * Adds the /arca documents to the tree, then writes the tree, the packs, the index and last
 * the snapshot: a backup that fails before the snapshot leaves none.
 */
export async function commitBackup(
  repo: Repository,
  tree: TreeBuilder,
  facts: BackupFacts,
): Promise<{ snapshot: Id; record: BackupRecord }> {
  const list = resourceListOf(tree);
  const record = backupRecord(facts, list, tree.bytes, repo.stats.storedBytes);
  await tree.addFile(RESOURCE_LIST_JSON, json(list));
  await tree.addFile(RESULTS_JSON, json(facts.results));
  await tree.addFile(LOG_JSONL, Buffer.from(facts.log));
  await tree.addFile(BACKUP_JSON, json(record));
  const snapshot = await commitTree(repo, tree, {
    time: facts.started,
    tags: [TAG_ARCA, backupTag(facts.name)],
    ...(facts.hostname ? { hostname: facts.hostname } : {}),
    ...(facts.programVersion ? { programVersion: facts.programVersion } : {}),
  });
  return { snapshot, record };
}

function backupRecord(
  facts: BackupFacts,
  list: ResourceList,
  bytes: number,
  storedBytes: number,
): BackupRecord {
  const { spec, started, results } = facts;
  return {
    apiVersion: "arca.dev/v1alpha1",
    kind: "Backup",
    metadata: { name: facts.name },
    spec,
    status: {
      phase: facts.phase,
      startTimestamp: started.toISOString(),
      completionTimestamp: new Date().toISOString(),
      ...(spec.ttl
        ? { expiration: new Date(started.getTime() + parseDuration(spec.ttl)).toISOString() }
        : {}),
      itemsBackedUp: facts.items,
      resourceTypes: Object.keys(list).length,
      warnings: results.warnings.length,
      errors: results.errors.length,
      bytes,
      storedBytes,
      cluster: facts.cluster,
    },
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + "\n");
