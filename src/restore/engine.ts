// The restore engine: read a backup's tree, transform each object for its new home, and create
// it in order (CRDs, waited on until Established; namespaces; then the tiers of order.ts),
// each tier's items in parallel. One item's failure never stops the others. A dry run asks
// the API server to validate every write (dryRun=All) and changes nothing.
import { ArcaError, messageOf } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { noProgress, type Progress } from "../common/progress.js";
import { AdaptiveSlots } from "../common/slots.js";
import { findBackup, readBackupRecord } from "../backup/catalog.js";
import { LabelFilter, NamespaceFilter, ResourceFilter } from "../backup/filters.js";
import { Journal } from "../backup/journal.js";
import { snapshotsNamed } from "../backup/layout.js";
import type { KubeClient } from "../kube/client.js";
import { getObject } from "../kube/list.js";
import type { KubeObject } from "../kube/object.js";
import type { ApiResource } from "../kube/resources.js";
import { applyObject, createObject, patchStatus } from "../kube/write.js";
import type { Id } from "../repo/layout.js";
import { RepositoryLock } from "../repo/lock.js";
import type { Repository } from "../repo/repository.js";
import { differences, formatDifferences } from "./compare.js";
import { type ItemOutcome, type ItemResult, type RestoreRecord, type RestoreResults } from "./layout.js";
import { applyModifiers, type ModifierRule } from "./modifiers.js";
import { waitEstablished } from "./crds.js";
import { CRD_RESOURCE, TIERS, tierOf } from "./order.js";
import { restoreRecord, saveRestoreRecord } from "./record.js";
import { ServedResources } from "./served.js";
import { neverRestored, type SkipContext } from "./skip.js";
import { itemKey, loadItem, storedItems, type StoredItem } from "./source.js";
import { checkRestoreSpec, type RestoreSpec } from "./spec.js";
import { mapNamespace, transformObject, type TransformOptions } from "./transform.js";

export interface RestoreRequest {
  name: string;
  spec: RestoreSpec;
  repo: Repository;
  client: KubeClient;
  modifiers?: ModifierRule[];
  dryRun?: boolean;
  progress?: Progress;
  logger?: Logger;
  /** Writes in flight at first; it halves on 429 and grows while the server keeps up. */
  concurrency?: number;
  /** How long to wait for a restored CRD to become Established. */
  crdTimeoutMs?: number;
  hostname?: string;
}

export interface RestoreOutcome {
  record: RestoreRecord;
  results: RestoreResults;
  /** The snapshot that keeps the record; none for a dry run. */
  snapshot?: Id;
}

export class RestoreExistsError extends ArcaError {}

export async function runRestore(req: RestoreRequest): Promise<RestoreOutcome> {
  checkRestoreSpec(req.spec);
  if (!req.dryRun && (await snapshotsNamed(req.repo, "restore", req.name)).length > 0)
    throw new RestoreExistsError(`a restore named ${req.name} already exists in ${req.repo.location}`, {
      hint: "choose another name, or leave the name out to get a generated one",
    });
  const lock = await RepositoryLock.acquire(req.repo, false);
  try {
    return await new RestoreRun(req).run();
  } finally {
    await lock.release();
  }
}

const PAST: Record<"create" | "update" | "skip" | "fail", ItemOutcome> = {
  create: "created",
  update: "updated",
  skip: "skipped",
  fail: "failed",
};

class RestoreRun {
  private readonly started = new Date();
  private readonly journal: Journal;
  private readonly progress: Progress;
  private readonly dryRun: boolean;
  private readonly transform: TransformOptions;
  private readonly labels: LabelFilter;
  private readonly slots: AdaptiveSlots;
  private readonly results: ItemResult[] = [];
  private readonly warnings: string[] = [];
  private readonly served = new ServedResources();
  /** group/kind/namespace/name of every object this restore may create: owners to leave to. */
  private readonly restoring = new Set<string>();
  /** Target namespaces that this restore creates itself (so a dry run need not find them). */
  private readonly namespacesCreated = new Set<string>();
  /** CRDs (by name, which is their resources' group-resource) that never became Established. */
  private readonly crdsNotReady = new Map<string, string>();
  private readonly crdsInBackup = new Set<string>();
  /** The backup's Services by namespace/name, whichever are restored: Endpoints ask after theirs. */
  private readonly storedServices = new Map<string, StoredItem>();
  private done = 0;
  private total = 0;
  private throttledSeen = 0;

  constructor(private readonly req: RestoreRequest) {
    this.journal = new Journal(req.logger);
    this.progress = req.progress ?? noProgress;
    this.dryRun = req.dryRun === true;
    const { spec } = req;
    this.transform = {
      backup: spec.backup,
      restore: req.name,
      namespaceMappings: new Map(Object.entries(spec.namespaceMappings)),
      storageClassMappings: new Map(Object.entries(spec.storageClassMappings)),
      restoreStatus: spec.restoreStatus,
      preserveNodePorts: spec.preserveNodePorts,
    };
    this.labels = new LabelFilter(spec);
    this.slots = new AdaptiveSlots(req.concurrency ?? 32, 96);
  }

  async run(): Promise<RestoreOutcome> {
    const { repo, spec, client } = this.req;
    const { snapshot } = await findBackup(repo, spec.backup);
    const backup = await readBackupRecord(repo, snapshot.tree);
    this.journal.info("restore started", {
      restore: this.req.name,
      backup: spec.backup,
      dryRun: this.dryRun,
      server: client.server,
    });
    if (backup.status.phase !== "Completed")
      this.warn(`backup ${spec.backup} is ${backup.status.phase}: some objects were not backed up`);

    await this.discover();
    const all = await storedItems(repo, snapshot.tree);
    await this.learnCustomKinds(all);
    for (const i of all)
      if (i.resource === "services") this.storedServices.set(`${i.namespace}/${i.name}`, i);
    const items = this.choose(all);
    this.total = items.length;
    for (const i of items) {
      const kind = this.served.kindOf(i.resource);
      if (kind) this.restoring.add(ownerKey(groupOf(i.resource), kind, i.namespace, i.name));
    }

    const tiers = new Map<number, StoredItem[]>();
    for (const i of items) {
      const t = tierOf(i.resource);
      let tier = tiers.get(t);
      if (!tier) tiers.set(t, (tier = []));
      tier.push(i);
    }
    for (let t = 0; t <= TIERS.length; t++) {
      await this.restoreTier(tiers.get(t) ?? []);
      if (t === 0) await this.afterCrds(tiers.get(0) ?? []);
      if (t === 1) await this.ensureNamespaces(items);
      this.report(t + 1);
    }
    return this.finish();
  }

  // --- choosing -------------------------------------------------------------------------

  /** The filters that need no object: namespace and resource. Labels are checked on load. */
  private choose(all: StoredItem[]): StoredItem[] {
    const namespaces = new NamespaceFilter(this.req.spec);
    const resources = new ResourceFilter(this.req.spec);
    return all.filter((i) => {
      const ns = i.resource === "namespaces" ? i.name : i.namespace;
      if (ns !== undefined && !namespaces.matches(ns)) return false;
      const dot = i.resource.indexOf(".");
      const pseudo: ApiResource = {
        group: dot < 0 ? "" : i.resource.slice(dot + 1),
        version: "",
        resource: dot < 0 ? i.resource : i.resource.slice(0, dot),
        kind: this.served.kindOf(i.resource) ?? "",
        namespaced: i.namespace !== undefined,
        verbs: [],
        shortNames: [],
        preferred: true,
      };
      const served = this.served.preferred(i.resource);
      return resources.includes(served ?? pseudo);
    });
  }

  private async discover(): Promise<void> {
    for (const failure of await this.served.refresh(this.req.client)) this.warn(failure);
  }

  /** Custom resources whose CRD is not served yet: their kind comes from the CRD in the backup. */
  private async learnCustomKinds(items: StoredItem[]): Promise<void> {
    for (const i of items) {
      if (i.resource !== CRD_RESOURCE) continue;
      this.crdsInBackup.add(i.name);
      try {
        const crd = await loadItem(this.req.repo, i);
        const kind = (crd.spec as { names?: { kind?: string } } | undefined)?.names?.kind;
        if (kind) this.served.learnKind(i.name, kind);
      } catch {
        // reported when the CRD itself is restored
      }
    }
  }

  /** An Endpoints object's Service from the backup; a damaged one fails on its own. */
  private async skipContext(item: StoredItem): Promise<SkipContext> {
    const service =
      item.resource === "endpoints" ? this.storedServices.get(`${item.namespace}/${item.name}`) : undefined;
    if (!service) return {};
    return loadItem(this.req.repo, service, this.req.client.signal).then(
      (o) => ({ service: o }),
      () => ({}),
    );
  }

  // --- restoring ------------------------------------------------------------------------

  private async restoreTier(items: StoredItem[]): Promise<void> {
    await Promise.all(items.map((i) => this.slots.run(() => this.restoreItem(i))));
  }

  private async restoreItem(item: StoredItem): Promise<void> {
    const record = (
      outcome: "create" | "update" | "skip" | "fail" | "conflict",
      reason?: string,
      diff?: string[],
    ) => {
      const target =
        item.resource === "namespaces"
          ? undefined
          : item.namespace && mapNamespace(item.namespace, this.transform);
      const name = item.resource === "namespaces" ? mapNamespace(item.name, this.transform) : item.name;
      this.results.push({
        resource: item.resource,
        ...(target ? { namespace: target } : {}),
        name,
        outcome: this.dryRun || outcome === "conflict" ? outcome : PAST[outcome],
        ...(reason ? { reason } : {}),
        ...(diff && diff.length ? { diff } : {}),
      });
      if (outcome === "fail") this.journal.error(reason ?? "failed", { item: itemKey(item) });
      this.done++;
      this.report();
    };
    let stored: KubeObject;
    try {
      stored = await loadItem(this.req.repo, item, this.req.client.signal);
    } catch (err) {
      return record("fail", messageOf(err));
    }
    if (!this.labels.matches(stored.metadata.labels)) {
      this.total--;
      return;
    }
    const never = neverRestored(item.resource, stored, await this.skipContext(item));
    if (never) return record("skip", never);
    const owner = stored.metadata.ownerReferences?.find(
      (o) =>
        o.controller &&
        this.restoring.has(ownerKey(groupOf(o.apiVersion, true), o.kind, item.namespace, o.name)),
    );
    if (owner)
      return record(
        "skip",
        `its controller ${owner.kind} ${owner.name} comes back with the restore and recreates it`,
      );

    let desired: KubeObject;
    try {
      desired = applyModifiers(
        this.req.modifiers ?? [],
        item.resource,
        transformObject(item.resource, stored, this.transform),
      );
    } catch (err) {
      return record("fail", `resource modifiers: ${messageOf(err)}`);
    }
    const r = this.target(item.resource, desired.apiVersion);
    if (typeof r === "string") {
      // In a dry run, what the restore would create first does not exist yet.
      if (this.dryRun && this.crdsInBackup.has(item.resource) && !this.served.has(item.resource))
        return record("create", "its CRD is created first, so the server cannot check it now");
      return record("fail", r);
    }
    const created = await createObject(this.req.client, r, desired, { dryRun: this.dryRun });
    this.noteThrottling();
    if (created.ok) {
      if (this.req.spec.restoreStatus && desired.status !== undefined && !this.dryRun) {
        // 404: the resource has no status subresource, and create has set the status already.
        const status = await patchStatus(this.req.client, r, desired, desired.status);
        if (!status.ok && status.error.status !== 404)
          return record("create", `created, but its status was not restored: ${status.error.message}`);
      }
      return record("create");
    }
    const { error } = created;
    if (
      error.status === 404 &&
      this.dryRun &&
      desired.metadata.namespace &&
      this.namespacesCreated.has(desired.metadata.namespace)
    )
      return record(
        "create",
        `namespace ${desired.metadata.namespace} is created first, so the server cannot check it now`,
      );
    if (error.status !== 409) return record("fail", error.message);

    const live = await getObject(this.req.client, r, desired.metadata.name, desired.metadata.namespace).catch(
      (err: unknown) => err,
    );
    if (!live || live instanceof Error)
      return record("fail", `it exists, but reading it failed: ${live ? messageOf(live) : "it went away"}`);
    const diff = formatDifferences(differences(withoutStatus(desired), live));
    if (diff.length === 0) return record("skip", "it exists already, as in the backup");
    if (this.req.spec.existingResourcePolicy === "none") {
      if (!this.dryRun) this.warn(`${itemKey(item)} exists and differs from the backup; left as it is`);
      return this.dryRun
        ? record("conflict", "it exists and differs; --existing-resource-policy none leaves it", diff)
        : record("skip", "it exists and differs from the backup; left as it is", diff);
    }
    const applied = await applyObject(this.req.client, r, desired, { dryRun: this.dryRun });
    this.noteThrottling();
    if (applied.ok) return record("update", "it existed and differed; applied the backup's fields", diff);
    return record("fail", applied.error.message, diff);
  }

  /** The resource to write `apiVersion` objects of this group-resource to, or why there is none. */
  private target(gr: string, apiVersion: string): ApiResource | string {
    return this.crdsNotReady.get(gr) ?? this.served.target(gr, apiVersion);
  }

  private noteThrottling(): void {
    const now = this.req.client.throttled;
    if (now > this.throttledSeen) {
      this.throttledSeen = now;
      this.slots.throttled();
      this.journal.warn("the API server is throttling; fewer writes at once", {
        concurrency: this.slots.limit,
      });
    } else this.slots.succeeded();
  }

  /** Waits for the restored CRDs to be Established, then learns the resources they serve. */
  private async afterCrds(crds: StoredItem[]): Promise<void> {
    const crdResource = this.served.preferred(CRD_RESOURCE);
    if (crds.length === 0 || !crdResource || this.dryRun) return;
    const names = crds.map((i) => i.name);
    const notReady = await waitEstablished(
      this.req.client,
      crdResource,
      names,
      this.req.crdTimeoutMs ?? 60_000,
    );
    for (const [name, why] of notReady) {
      this.crdsNotReady.set(name, why);
      this.warn(why);
    }
    await this.discover();
  }

  /** Namespaces that items go into but the backup does not hold (mapped, or left out of it). */
  private async ensureNamespaces(items: StoredItem[]): Promise<void> {
    const nsResource = this.served.preferred("namespaces");
    if (!nsResource) return;
    const fromBackup = new Set(
      items.filter((i) => i.resource === "namespaces").map((i) => mapNamespace(i.name, this.transform)),
    );
    for (const ns of fromBackup) this.namespacesCreated.add(ns);
    const needed = new Set(
      items.filter((i) => i.namespace).map((i) => mapNamespace(i.namespace as string, this.transform)),
    );
    for (const ns of needed) {
      if (fromBackup.has(ns)) continue;
      const live = await getObject(this.req.client, nsResource, ns);
      if (live) continue;
      this.namespacesCreated.add(ns);
      const o: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } };
      const created = await createObject(
        this.req.client,
        nsResource,
        transformObject("namespaces", o, { ...this.transform, namespaceMappings: new Map() }),
        { dryRun: this.dryRun },
      );
      this.results.push({
        resource: "namespaces",
        name: ns,
        outcome: created.ok ? (this.dryRun ? "create" : "created") : this.dryRun ? "fail" : "failed",
        reason: created.ok
          ? "not in the backup; created for the items restored into it"
          : created.error.message,
      });
    }
  }

  // --- results --------------------------------------------------------------------------

  private warn(message: string): void {
    this.warnings.push(message);
    this.journal.warn(message);
    this.progress.warning(message);
  }

  private report(step?: number): void {
    this.progress.update({
      files: this.done,
      totalFiles: this.total,
      bytes: 0,
      ...(step !== undefined ? { stepsDone: step, stepsTotal: TIERS.length + 1 } : {}),
      warnings: this.warnings.length,
    });
  }

  private async finish(): Promise<RestoreOutcome> {
    const results: RestoreResults = { items: this.results, warnings: this.warnings };
    const record = restoreRecord(this.req.name, this.req.spec, {
      results,
      crdsNotReady: this.crdsNotReady,
      dryRun: this.dryRun,
      started: this.started,
      server: this.req.client.server,
    });
    this.journal.info("restore finished", { phase: record.status.phase, ...record.status.counts });
    if (this.dryRun) return { record, results };
    // --no-lock: the location may be read-only, and nothing is written to it.
    if (this.req.repo.noLock) {
      this.progress.warning(
        "the restore's record is not kept in the location (--no-lock): -o json prints it",
      );
      return { record, results };
    }
    const snapshot = await saveRestoreRecord(this.req.repo, record, results, this.journal.text(), {
      started: this.started,
      ...(this.req.hostname ? { hostname: this.req.hostname } : {}),
    });
    return { record, results, snapshot };
  }
}

const withoutStatus = (o: KubeObject): KubeObject => {
  const { status: _status, ...rest } = o;
  return rest as KubeObject;
};

/** The API group of a group-resource ("deployments.apps" -> "apps"), or of an apiVersion. */
function groupOf(value: string, isApiVersion = false): string {
  if (isApiVersion) return value.includes("/") ? value.slice(0, value.indexOf("/")) : "";
  const dot = value.indexOf(".");
  return dot < 0 ? "" : value.slice(dot + 1);
}

const ownerKey = (group: string, kind: string, namespace: string | undefined, name: string) =>
  `${group}/${kind}/${namespace ?? ""}/${name}`;
