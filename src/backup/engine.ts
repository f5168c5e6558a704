// The backup engine: discover what the cluster serves, list what the filters choose, bring in
// what those items depend on, and stream every object into one snapshot. The snapshot is
// written last; a backup that fails or is aborted leaves none.
import { ArcaError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { noProgress, type Progress } from "../common/progress.js";
import { allSettledOrThrow, Slots } from "../common/slots.js";
import type { KubeClient } from "../kube/client.js";
import { discoverResources } from "../kube/discovery.js";
import { listObjects, readObject, type ListedObject } from "../kube/list.js";
import { groupResource, type ApiResource } from "../kube/resources.js";
import { KubeApiError } from "../kube/transport.js";
import type { Id } from "../repo/layout.js";
import { RepositoryLock } from "../repo/lock.js";
import type { Repository } from "../repo/repository.js";
import { TreeBuilder } from "../snapshot/virtual.js";
import {
  bindsIncludedNamespace,
  CRDS,
  DEFAULT_ACTIONS,
  type ActionContext,
  type ItemAction,
  type RelatedRef,
} from "./actions.js";
import { LabelFilter, NamespaceFilter, neverBackedUp, ResourceFilter } from "./filters.js";
import { Findings } from "./findings.js";
import { Journal } from "./journal.js";
import { crdKinds, namespaceScope } from "./scope.js";
import {
  itemPath,
  listDir,
  snapshotsNamed,
  TREE_TIME,
  type BackupRecord,
  type BackupResults,
} from "./layout.js";
import { commitBackup } from "./record.js";
import { checkSpec, type BackupSpec } from "./spec.js";

export interface BackupRequest {
  name: string;
  spec: BackupSpec;
  /** A promise lets the cluster's discovery run while the repository opens. */
  repo: Repository | Promise<Repository>;
  client: KubeClient;
  progress?: Progress;
  logger?: Logger;
  /** Resource types listed at once. */
  concurrency?: number;
  pageSize?: number;
  actions?: ItemAction[];
  hostname?: string;
  programVersion?: string;
}

export interface BackupOutcome {
  snapshot: Id;
  record: BackupRecord;
  results: BackupResults;
}

export const DEFAULT_CONCURRENCY = 8;

export class BackupExistsError extends ArcaError {}

export async function runBackup(req: BackupRequest): Promise<BackupOutcome> {
  checkSpec(req.spec);
  // The cluster is surveyed and the first pages are on their way while the repository opens
  // and the lock is taken; items wait for both.
  const opening = openForBackup(req);
  opening.catch(() => undefined); // seen below
  try {
    return await new BackupRun(req).run(opening);
  } catch (err) {
    // A repository that did not open (wrong password, a name in use) is the reason to report.
    const failedToOpen = await opening.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    throw failedToOpen ?? err;
  } finally {
    await (await opening.catch(() => undefined))?.lock.release();
  }
}

type Opened = { repo: Repository; lock: RepositoryLock };

async function openForBackup(req: BackupRequest): Promise<Opened> {
  const repo = await req.repo;
  if ((await snapshotsNamed(repo, "backup", req.name)).length > 0)
    throw new BackupExistsError(`a backup named ${req.name} already exists in ${repo.location}`, {
      hint: "choose another name, or delete the old backup with `arca backup delete`",
    });
  return { repo, lock: await RepositoryLock.acquire(repo, false, { confirmLater: true }) };
}

const key = (r: { resource: string; namespace?: string; name: string }) =>
  `${r.resource}/${r.namespace ? `${r.namespace}/` : ""}${r.name}`;

class BackupRun {
  private readonly started = new Date();
  private readonly journal: Journal;
  private readonly progress: Progress;
  private readonly findings: Findings;
  /** Set once the repository is open; writes wait for `treeReady` until then. */
  private tree: TreeBuilder | undefined;
  private treeReady!: Promise<TreeBuilder>;
  private readonly namespaces: NamespaceFilter;
  private readonly resources: ResourceFilter;
  private readonly labels: LabelFilter;
  private readonly actions: ItemAction[];
  private readonly namespacesWithItems = new Set<string>();
  /** The included namespaces, as listed at the start (so they need no second request). */
  private includedNamespaces = new Map<string, ListedObject | undefined>();
  private crds = new Map<string, string>();
  private readonly preferred = new Map<string, ApiResource>();
  private readonly related = new Map<string, RelatedRef & { from: string }>();
  private items = 0;
  private typesDone = 0;
  private typesTotal = 0;
  private readonly context: ActionContext;
  private serverVersion: string | undefined;
  /** One per resource type (and namespace, when namespaces are named), from survey(). */
  private tasks: Array<() => Promise<void>> = [];

  constructor(private readonly req: BackupRequest) {
    this.journal = new Journal(req.logger);
    this.progress = req.progress ?? noProgress;
    this.findings = new Findings(this.journal, this.progress);
    this.namespaces = new NamespaceFilter(req.spec);
    this.resources = new ResourceFilter(req.spec);
    this.labels = new LabelFilter(req.spec);
    this.actions = req.actions ?? DEFAULT_ACTIONS;
    this.context = {
      crdFor: (group, kind) => this.crds.get(`${group}/${kind}`),
      namespaceIncluded: (ns) => this.includedNamespaces.has(ns),
    };
  }

  async run(opening: Promise<Opened>): Promise<BackupOutcome> {
    this.treeReady = opening.then(({ repo }) => (this.tree = new TreeBuilder(repo, { time: TREE_TIME })));
    this.treeReady.catch(() => undefined); // a failed opening is reported by runBackup
    await this.survey();
    const slots = new Slots(this.req.concurrency ?? DEFAULT_CONCURRENCY);
    await allSettledOrThrow(this.tasks.map((t) => slots.run(t)));
    await this.resolveRelated();
    await this.writeNamespaces();
    this.typesDone++;
    this.report();
    const { repo, lock } = await opening;
    await lock.confirmed;
    return this.commit(repo, await this.treeReady);
  }

  /** What the cluster serves and what the filters choose: everything but the items. */
  private async survey(): Promise<void> {
    const { client } = this.req;
    this.journal.info("backup started", { backup: this.req.name, server: client.server });
    const version = await client.getJson<{ gitVersion?: string }>("reading the server version", "/version");
    this.serverVersion = version?.gitVersion;
    const discovery = await discoverResources(client);
    for (const f of discovery.failures)
      this.findings.warn({
        resource: f.groupVersion,
        message: `discovery failed, its resources are not backed up: ${f.message}`,
      });
    for (const r of discovery.resources) if (r.preferred) this.preferred.set(groupResource(r), r);
    for (const p of this.resources.unresolved(discovery.resources))
      this.findings.warn({ resource: p, message: "the cluster serves no resource by this name" });

    await Promise.all([this.loadNamespaces(), this.loadCrds()]);
    this.tasks = this.plan(discovery.resources);
    this.typesTotal = this.tasks.length + 1;
  }

  // --- planning -------------------------------------------------------------------------

  private plan(all: ApiResource[]): Array<() => Promise<void>> {
    const { spec } = this.req;
    const clusterWide =
      spec.includeClusterResources === "true" ||
      (spec.includeClusterResources === "auto" && this.namespaces.all);
    const tasks: Array<() => Promise<void>> = [];
    const skipped = new Set<string>();
    for (const r of all) {
      const gr = groupResource(r);
      const why = neverBackedUp(r);
      if (why) {
        if (!skipped.has(gr)) this.findings.skipped(gr, why);
        skipped.add(gr);
        continue;
      }
      if (!r.preferred && !spec.allVersions) continue;
      if (gr === "namespaces" || !this.resources.includes(r)) continue;
      if (r.namespaced) {
        if (this.namespaces.mostly) tasks.push(() => this.listType(r));
        else for (const ns of this.includedNamespaces.keys()) tasks.push(() => this.listType(r, ns));
      } else if (clusterWide) {
        tasks.push(() => this.listType(r));
      } else if (
        spec.includeClusterResources === "auto" &&
        gr === `clusterrolebindings.rbac.authorization.k8s.io` &&
        r.preferred
      ) {
        tasks.push(() => this.listBindingsOfIncluded(r));
      }
    }
    return tasks;
  }

  private async loadNamespaces(): Promise<void> {
    const { client, spec, pageSize } = this.req;
    const r = this.preferred.get("namespaces");
    const scope = await namespaceScope(client, r, this.namespaces, spec.includeNamespaces, pageSize);
    this.includedNamespaces = scope.namespaces;
    for (const w of scope.warnings) this.findings.warn(w);
    this.journal.info("namespaces chosen", { count: this.includedNamespaces.size });
  }

  private async loadCrds(): Promise<void> {
    const { kinds, warning } = await crdKinds(this.req.client, this.preferred.get(CRDS), this.req.pageSize);
    this.crds = kinds;
    if (warning) this.findings.warn(warning);
  }

  // --- listing --------------------------------------------------------------------------

  private async listType(r: ApiResource, namespace?: string): Promise<void> {
    const gr = groupResource(r);
    const other = r.preferred ? undefined : r.version;
    try {
      for await (const page of listObjects(this.req.client, r, {
        namespace,
        limit: this.req.pageSize,
        labelSelector: this.labels.serverSide,
        onRelist: (message) => this.journal.warn(message, { resource: gr }),
        // Each page is stored (its new objects copied into packs) before the next is asked for.
        reuseBuffers: true,
      })) {
        const writing: Array<Promise<void>> = [];
        for (const o of page) {
          if (r.namespaced && !this.namespaces.matches(o.head.metadata.namespace ?? "")) continue;
          if (this.labels.active && !this.labels.matches(o.labels)) continue;
          const w = this.write(r, o, other);
          if (w) writing.push(w);
        }
        await Promise.all(writing);
        this.report(gr);
      }
      // Its trees are written now, while other types are still listing, not all at the end.
      this.tree?.settle(listDir(r, namespace, other));
    } catch (err) {
      this.listFailed(gr, namespace, err);
    } finally {
      this.typesDone++;
    }
  }

  /** With auto, a ClusterRoleBinding belongs to the backup when it grants something to an included namespace. */
  private async listBindingsOfIncluded(r: ApiResource): Promise<void> {
    const gr = groupResource(r);
    try {
      for await (const page of listObjects(this.req.client, r, { limit: this.req.pageSize })) {
        for (const { object: binding } of page) {
          const ns = bindsIncludedNamespace(binding, this.context);
          if (!ns) continue;
          this.relate(
            { resource: gr, name: binding.metadata.name, reason: `a subject lives in namespace ${ns}` },
            `namespaces/${ns}`,
          );
        }
      }
    } catch (err) {
      this.listFailed(gr, undefined, err);
    } finally {
      this.typesDone++;
    }
  }

  private listFailed(gr: string, namespace: string | undefined, err: unknown): void {
    if (!(err instanceof KubeApiError)) throw err; // unreachable server, repository failure: the backup fails
    const where = { resource: gr, ...(namespace ? { namespace } : {}) };
    if (err.status === 404 || err.status === 405)
      this.findings.warn({
        ...where,
        message: `the resource went away during the backup (a CRD deleted?): ${err.message}`,
      });
    else this.findings.error({ ...where, message: err.message });
  }

  /** Stores an item; a promise only when it must wait (for the repository, or to store new content). */
  private write(r: ApiResource, listed: ListedObject, otherVersion?: string): Promise<void> | undefined {
    const tree = this.tree;
    if (!tree) return this.treeReady.then(() => this.write(r, listed, otherVersion));
    const { name, namespace } = listed.head.metadata;
    const fresh = tree.addFile(itemPath(r, name, namespace, otherVersion), listed.bytes, { replace: true });
    if (typeof fresh !== "boolean") return fresh.then((f) => this.written(r, listed, f && !otherVersion));
    this.written(r, listed, fresh && !otherVersion);
    return undefined;
  }

  /** Counts a new item (its preferred version), and notes what it depends on. */
  private written(r: ApiResource, listed: ListedObject, counted: boolean): void {
    if (!counted) return;
    this.items++;
    const { head } = listed;
    const ns = head.metadata.namespace;
    if (ns) this.namespacesWithItems.add(ns);
    const gr = groupResource(r);
    for (const action of this.actions) {
      const refs =
        action.appliesTo === "*"
          ? action.related(head, this.context)
          : action.appliesTo.includes(gr)
            ? action.related(listed.object, this.context)
            : [];
      if (refs.length === 0) continue;
      const from = key({ resource: gr, namespace: ns, name: head.metadata.name });
      for (const ref of refs) this.relate(ref, from);
    }
  }

  // --- related items --------------------------------------------------------------------

  private relate(ref: RelatedRef, from: string): void {
    const k = key(ref);
    if (!this.related.has(k)) this.related.set(k, { ...ref, from });
  }

  /** Fetches what items depend on and no filter chose, until nothing new turns up. */
  private async resolveRelated(): Promise<void> {
    const done = new Set<string>();
    const slots = new Slots(this.req.concurrency ?? DEFAULT_CONCURRENCY);
    for (;;) {
      const batch = [...this.related.entries()].filter(([k]) => !done.has(k));
      if (batch.length === 0) return;
      for (const [k] of batch) done.add(k);
      await allSettledOrThrow(batch.map(([, ref]) => slots.run(() => this.fetchRelated(ref))));
    }
  }

  private async fetchRelated(ref: RelatedRef & { from: string }): Promise<void> {
    const r = this.preferred.get(ref.resource);
    if (!r) {
      this.findings.warn({
        ...ref,
        message: `needed by ${ref.from}, but the cluster does not serve ${ref.resource}`,
      });
      return;
    }
    if ((await this.treeReady).has(itemPath(r, ref.name, ref.namespace))) return;
    if (this.resources.excluded(r) || neverBackedUp(r)) return;
    if (!r.namespaced && this.req.spec.includeClusterResources === "false") return;
    let o: ListedObject | undefined;
    try {
      o = await readObject(this.req.client, r, ref.name, ref.namespace);
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      this.findings.error({ ...ref, message: `needed by ${ref.from}: ${err.message}` });
      return;
    }
    if (!o) {
      this.findings.warn({ ...ref, message: `needed by ${ref.from}, but it does not exist` });
      return;
    }
    const { resource, namespace, name, from, reason } = ref;
    this.findings.related({ resource, namespace, name, from, reason }, key(ref));
    await this.write(r, o);
  }

  /** Namespace objects: those chosen by the filters, and those whose items were backed up. */
  private async writeNamespaces(): Promise<void> {
    const r = this.preferred.get("namespaces") as ApiResource;
    if (this.resources.excluded(r)) return;
    const chosen = this.resources.includes(r);
    for (const [ns, listed] of this.includedNamespaces) {
      const hasItems = this.namespacesWithItems.has(ns);
      if (!hasItems && !chosen) continue;
      // Listed at the start; read one by one only when listing them was not allowed.
      let o: ListedObject | undefined = listed;
      try {
        o ??= await readObject(this.req.client, r, ns);
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        this.findings.error({ resource: "namespaces", name: ns, message: err.message });
        continue;
      }
      if (!o) {
        if (hasItems)
          this.findings.warn({
            resource: "namespaces",
            name: ns,
            message: "the namespace does not exist",
          });
        continue;
      }
      if (!hasItems && !this.labels.matches(o.labels)) continue;
      await this.write(r, o);
    }
  }

  // --- progress and the end --------------------------------------------------------------

  private report(current?: string): void {
    this.progress.update({
      files: this.items,
      bytes: this.tree?.bytes ?? 0,
      current,
      stepsDone: this.typesDone,
      stepsTotal: this.typesTotal,
      warnings: this.findings.problems,
    });
  }

  private async commit(repo: Repository, tree: TreeBuilder): Promise<BackupOutcome> {
    const { phase, results } = this.findings;
    this.journal.info("backup finished", {
      phase,
      items: this.items,
      warnings: results.warnings.length,
      errors: results.errors.length,
    });
    const { snapshot, record } = await commitBackup(repo, tree, {
      name: this.req.name,
      spec: this.req.spec,
      phase,
      started: this.started,
      items: this.items,
      results,
      log: this.journal.text(),
      cluster: {
        server: this.req.client.server,
        ...(this.serverVersion ? { version: this.serverVersion } : {}),
      },
      ...(this.req.hostname ? { hostname: this.req.hostname } : {}),
      ...(this.req.programVersion ? { programVersion: this.req.programVersion } : {}),
    });
    return { snapshot, record, results };
  }
}
