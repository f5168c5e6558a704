// Where a backup puts things in its snapshot's tree (docs/format.md), and the documents under
// /arca. The restore engine reads the same layout.
import type { ApiResource } from "../kube/resources.js";
import type { Repository } from "../repo/repository.js";
import type { TreeBuilder } from "../snapshot/virtual.js";
import { groupResource } from "../kube/resources.js";
import type { BackupSpec } from "./spec.js";

export const TAG_ARCA = "arca";
export const backupTag = (name: string): string => `backup=${name}`;

/** The backup or restore an Arca snapshot records: the value of its `backup=` or `restore=` tag. */
export function taggedName(tags: string[] | undefined, key: "backup" | "restore"): string | undefined {
  if (!tags?.includes(TAG_ARCA)) return undefined;
  return tags.find((t) => t.startsWith(`${key}=`))?.slice(key.length + 1);
}

/** The snapshots that record the backup or restore of this name, oldest first. */
export async function snapshotsNamed(repo: Repository, key: "backup" | "restore", name: string) {
  return (await repo.listSnapshots()).filter(({ snapshot }) => taggedName(snapshot.tags, key) === name);
}
export const BACKUP_JSON = "/arca/backup.json";
export const RESOURCE_LIST_JSON = "/arca/resource-list.json";
export const RESULTS_JSON = "/arca/results.json";
export const LOG_JSONL = "/arca/log.jsonl";
export const RESOURCES_DIR = "/resources";
/**
 * The time on every node of a backup's tree. An object has no file time of its own, and the
 * backup's start on every node made each backup's trees new: a backup of an unchanged cluster
 * of 100,000 objects stored 4.3 MiB of trees again. With one fixed time, an unchanged
 * directory is the same tree blob and is stored once (that backup stores 0.1 MiB, its /arca
 * documents). The snapshot records when.
 */
export const TREE_TIME = new Date(0);

/** The path of one object: its preferred version unless `otherVersion` says it is another. */
export function itemPath(
  r: Pick<ApiResource, "group" | "resource">,
  name: string,
  namespace?: string,
  otherVersion?: string,
): string {
  const scope = namespace ? `namespaces/${namespace}` : "cluster";
  return `${typeDir(r, otherVersion)}/${scope}/${name}.json`;
}

/** The directory that one list fills: a namespace's items, or the whole type's in its scope. */
export function listDir(
  r: Pick<ApiResource, "group" | "resource" | "namespaced">,
  namespace?: string,
  otherVersion?: string,
): string {
  const scope = !r.namespaced ? "cluster" : namespace ? `namespaces/${namespace}` : "namespaces";
  return `${typeDir(r, otherVersion)}/${scope}`;
}

const typeDir = (r: Pick<ApiResource, "group" | "resource">, otherVersion?: string) =>
  `${RESOURCES_DIR}/${groupResource(r)}${otherVersion ? `/${otherVersion}` : ""}`;

/** The resource list of a backup's tree: every object under /resources at its preferred version. */
export function resourceListOf(tree: TreeBuilder): ResourceList {
  const list: ResourceList = {};
  const objects = (dir: string) => (tree.children(dir)?.files ?? []).map((f) => f.replace(/\.json$/, ""));
  for (const gr of tree.children(RESOURCES_DIR)?.dirs ?? []) {
    const base = `${RESOURCES_DIR}/${gr}`;
    const names = objects(`${base}/cluster`);
    for (const ns of tree.children(`${base}/namespaces`)?.dirs ?? [])
      for (const name of objects(`${base}/namespaces/${ns}`)) names.push(`${ns}/${name}`);
    if (names.length > 0) list[gr] = names.sort();
  }
  return list;
}

export type BackupPhase = "InProgress" | "Completed" | "PartiallyFailed" | "Failed";

/** One thing that went wrong with an item or a resource type. */
export interface ItemProblem {
  /** group-resource, e.g. deployments.apps */
  resource: string;
  namespace?: string;
  name?: string;
  message: string;
}

/** Something backed up because another item needs it, not because a filter chose it. */
export interface RelatedInclusion {
  resource: string;
  namespace?: string;
  name: string;
  /** The item that brought it, as resource/namespace/name. */
  from: string;
  reason: string;
}

/** /arca/results.json */
export interface BackupResults {
  warnings: ItemProblem[];
  errors: ItemProblem[];
  /** Resource types left out on purpose, and why. */
  skipped: Array<{ resource: string; reason: string }>;
  related: RelatedInclusion[];
}

/** /arca/resource-list.json: group-resource -> "namespace/name" or "name". */
export type ResourceList = Record<string, string[]>;

/** /arca/backup.json: the spec as run and how it ended. */
export interface BackupRecord {
  apiVersion: "arca.dev/v1alpha1";
  kind: "Backup";
  metadata: { name: string };
  spec: BackupSpec;
  status: {
    phase: BackupPhase;
    startTimestamp: string;
    completionTimestamp?: string;
    expiration?: string;
    /** Objects written, and resource types listed. */
    itemsBackedUp: number;
    resourceTypes: number;
    warnings: number;
    errors: number;
    /** JSON bytes of the objects, and what the repository stored for them. */
    bytes: number;
    storedBytes: number;
    cluster: { server: string; version?: string };
    failureReason?: string;
  };
}
