// A whole application, backed up once and restored three ways: into the same cluster after it
// was deleted, into a mapped namespace beside the original, and into a second cluster. Each
// time the live objects must equal the originals, field by field, once normalised
// (test/support/normalize.ts names every field that may differ, and why).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isDeepStrictEqual } from "node:util";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/object.js";
import { resourcePath } from "../../src/kube/resources.js";
import type { Repository } from "../../src/repo/repository.js";
import { runRestore, type RestoreOutcome } from "../../src/restore/engine.js";
import { DEFAULT_RESTORE_SPEC, type RestoreSpec } from "../../src/restore/spec.js";
import {
  forConfigMap,
  forCrd,
  forCronJob,
  forCustomObject,
  forDeployment,
  forHorizontalPodAutoscaler,
  forIngress,
  forJob,
  forNamespace,
  forNetworkPolicy,
  forPersistentVolume,
  forPersistentVolumeClaim,
  forPodDisruptionBudget,
  forRole,
  forRoleBinding,
  forSecret,
  forService,
  forServiceAccount,
  forStatefulSet,
  forStorageClass,
} from "../builders/index.js";
import { startCluster, type Cluster } from "../env/cluster.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { backUp, createObjects, scratchRepository, storedItems, storedJson } from "../support/backup.js";
import { mapNamespaces, normalize } from "../support/normalize.js";
import { eventually, uniqueName } from "../support/wait.js";

const RBAC = "rbac.authorization.k8s.io";
const CRDS = "customresourcedefinitions.apiextensions.k8s.io";
const BACKUP = "app";

interface Item {
  resource: string;
  namespace?: string;
  name: string;
}
const keyOf = (i: Item) => `${i.resource}/${i.namespace ? `${i.namespace}/` : ""}${i.name}`;
type List = { items: KubeObject[] };

/** deepEqual of two records, narrowed to the keys that differ, so a failure shows only those. */
function assertSameEntries(actual: Record<string, unknown>, expected: Record<string, unknown>) {
  const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort();
  const wrong = keys.filter((k) => !isDeepStrictEqual(actual[k], expected[k]));
  const pick = (r: Record<string, unknown>) => Object.fromEntries(wrong.map((k) => [k, r[k] ?? "<absent>"]));
  assert.deepEqual(pick(actual), pick(expected));
}

/** One object by group-resource and name, at the version `apiVersion` names. */
function read(client: KubeClient, i: Item, apiVersion: string): Promise<KubeObject | undefined> {
  const dot = i.resource.indexOf(".");
  const r = {
    resource: dot < 0 ? i.resource : i.resource.slice(0, dot),
    group: dot < 0 ? "" : i.resource.slice(dot + 1),
    version: apiVersion.slice(apiVersion.indexOf("/") + 1),
  };
  return client.getJson<KubeObject>(`reading ${keyOf(i)}`, resourcePath(r, i.namespace, i.name));
}

describe("a complex application, restored", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let client: KubeClient;
  let second: Cluster | undefined;
  let starting: Promise<unknown> | undefined;
  let repo: Repository;
  let removeRepo: () => void;
  const ns = uniqueName("app");
  const copy = `${ns}-copy`;
  const group = `${uniqueName("g")}.arca.test`;
  const crd = `widgets.${group}`;
  const [sc, pv] = [`${ns}-sc`, `${ns}-pv`];
  /** What the backup stored, and each object as it was live right after the backup. */
  let items: Item[] = [];
  const originals = new Map<string, KubeObject>();

  const application = (): KubernetesObject[] => [
    forNamespace(ns).labels({ team: "shop" }).result(),
    forStorageClass(sc).volumeBindingMode("Immediate").result(),
    forPersistentVolume(pv).storageClass(sc).hostPath(`/srv/${ns}`).result(),
    forPersistentVolumeClaim(ns, "data").storageClass(sc).result(),
    forServiceAccount(ns, "app").result(),
    forRole(ns, "app")
      .rule({ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] })
      .result(),
    forRoleBinding(ns, "app").serviceAccount(ns, "app").result(),
    forConfigMap(ns, "settings").data({ mode: "fast" }).result(),
    forSecret(ns, "web-tls").stringData({ "tls.crt": "crt", "tls.key": "key" }).result(),
    forDeployment(ns, "web").labels({ tier: "front" }).annotations({ owner: "shop" }).result(),
    // Its claims ask for more than the bound volume holds: they stay Pending, as is fine.
    forStatefulSet(ns, "db").service("db").claimTemplate("data", "2Gi", sc).result(),
    forJob(ns, "migrate").completions(1).result(),
    forCronJob(ns, "report").result(),
    forService(ns, "web").port(80, 8080).result(),
    forService(ns, "db").headless().port(5432).result(),
    forService(ns, "web-node").selector({ app: "web" }).type("NodePort").port(80, 8080).result(),
    forService(ns, "web-lb")
      .selector({ app: "web" })
      .type("LoadBalancer")
      .externalTrafficPolicy("Local")
      .port(443, 8443)
      .result(),
    forService(ns, "upstream").externalName("upstream.example.test").result(),
    forIngress(ns, "web")
      .rule("shop.example.test", "/", "web", 80)
      .tls("web-tls", "shop.example.test")
      .result(),
    forNetworkPolicy(ns, "db")
      .allowFrom(5432, { podSelector: { matchLabels: { app: "web" } } })
      .allowFrom(
        5432,
        { namespaceSelector: { matchLabels: { team: "ops" } } },
        { ipBlock: { cidr: "10.8.0.0/16" } },
      )
      .allowTo(53, { ipBlock: { cidr: "10.0.0.10/32" } })
      .result(),
    forHorizontalPodAutoscaler(ns, "web").replicas(1, 3).result(),
    forPodDisruptionBudget(ns, "db").result(),
    forCustomObject(`${group}/v1`, "Widget", ns, "small")
      .spec({ size: 1, parts: ["a", "b"] })
      .result(),
    forCustomObject(`${group}/v1`, "Widget", ns, "large").labels({ size: "l" }).spec({ size: 9 }).result(),
  ];

  const established = (c: KubeClient) =>
    eventually(`CRD ${crd} Established`, async () => {
      const got = await read(c, { resource: CRDS, name: crd }, "apiextensions.k8s.io/v1");
      const conditions = (got?.status as { conditions?: { type: string; status: string }[] } | undefined)
        ?.conditions;
      return conditions?.some((x) => x.type === "Established" && x.status === "True");
    });
  const list = async (c: KubeClient, path: string) =>
    (await c.getJson<List>(`listing ${path}`, path))?.items ?? [];
  const claimBound = (c: KubeClient, namespace: string) =>
    eventually(`claim ${namespace}/data bound to ${pv}`, async () => {
      const pvc = await read(c, { resource: "persistentvolumeclaims", namespace, name: "data" }, "v1");
      const { phase } = (pvc?.status ?? {}) as { phase?: string };
      return phase === "Bound" && (pvc?.spec as { volumeName?: string }).volumeName === pv;
    });
  /**
   * What the controllers make of the application: a ReplicaSet and its Pod, the StatefulSet's
   * Pod and claim, the Job's Pod, the default ServiceAccount and the CA bundle. No kubelet
   * runs, so the Pods stay Pending.
   */
  const controllersAtWork = (c: KubeClient, namespace: string) =>
    eventually(`the controllers' objects in ${namespace}`, async () => {
      const names = async (resource: string) =>
        (await list(c, `/api/v1/namespaces/${namespace}/${resource}`)).map((o) => o.metadata.name);
      const pods = await list(c, `/api/v1/namespaces/${namespace}/pods`);
      const owners = pods.map((p) => p.metadata.ownerReferences?.find((o) => o.controller)?.kind).sort();
      return (
        owners.join() === "Job,ReplicaSet,StatefulSet" &&
        (await names("persistentvolumeclaims")).includes("data-db-0") &&
        (await names("serviceaccounts")).includes("default") &&
        (await names("configmaps")).includes("kube-root-ca.crt")
      );
    });
  const remove = async (c: KubeClient, path: string) => {
    const { status } = await c.request(`deleting ${path}`, { method: "DELETE", path });
    assert.ok(status === 200 || status === 202, `DELETE ${path}: HTTP ${status}`);
  };
  const gone = (c: KubeClient, i: Item, apiVersion: string) =>
    eventually(`${keyOf(i)} gone`, async () => (await read(c, i, apiVersion)) === undefined, 120_000);

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    client = new KubeClient(kc);
    ({ repo, remove: removeRepo } = await scratchRepository());
    starting = startCluster({ name: "second" }).then((c) => (second = c));
    await createObjects(kc, [forCrd(group, "Widget").result()]);
    await established(client);
    await createObjects(kc, application());
    await claimBound(client, ns);
    await controllersAtWork(client, ns);
    await starting;

    const outcome = await backUp(kc, repo, BACKUP, { includeNamespaces: [ns] });
    assert.equal(outcome.record.status.phase, "Completed");
    items = (await storedItems(repo, outcome.snapshot)).map((path) => {
      const parts = path.split("/");
      return parts.length === 3
        ? { resource: parts[0] as string, namespace: parts[1] as string, name: parts[2] as string }
        : { resource: parts[0] as string, name: parts[1] as string };
    });
    for (const i of items) {
      const where = `/resources/${i.resource}/${i.namespace ? `namespaces/${i.namespace}` : "cluster"}/${i.name}.json`;
      const stored = (await storedJson(repo, outcome.snapshot, where)) as KubeObject;
      const live = await read(client, i, stored.apiVersion);
      assert.ok(live, `${keyOf(i)} is live after the backup`);
      originals.set(keyOf(i), live);
    }
  });

  after(async () => {
    repo?.close();
    removeRepo?.();
    await starting?.catch(() => undefined);
    await second?.stop();
    if (!client) return;
    const del = (path: string) =>
      client.request("cleanup", { method: "DELETE", path }).catch(() => undefined);
    await del(`/api/v1/namespaces/${ns}`);
    await del(`/api/v1/namespaces/${copy}`);
    await del(`/api/v1/persistentvolumes/${pv}`);
    await del(`/apis/storage.k8s.io/v1/storageclasses/${sc}`);
    await del(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    await env?.stop();
  });

  const restore = (name: string, target: KubeConfig, spec: Partial<RestoreSpec> = {}) =>
    runRestore({
      name,
      spec: { ...DEFAULT_RESTORE_SPEC, backup: BACKUP, ...spec },
      repo,
      client: new KubeClient(target),
    });

  /** Where a stored item lands: a mapped namespace, and for a Namespace its mapped name. */
  const targetOf = (i: Item, mappings: Record<string, string>): Item => {
    const meta = mapNamespaces(originals.get(keyOf(i)) as KubeObject, mappings).metadata;
    return { resource: i.resource, namespace: meta.namespace, name: meta.name };
  };

  /**
   * What each stored item must come to, by its key in the target: what no restore creates and
   * what a controller recreates is skipped, and the rest created. Cluster-scoped items found
   * already in place get `existing` instead.
   */
  function expectedOutcomes(mappings: Record<string, string>, existing?: (i: Item) => string) {
    const out: Record<string, string> = {};
    for (const i of items) {
      const o = originals.get(keyOf(i)) as KubeObject;
      const owner = o.metadata.ownerReferences?.find((r) => r.controller);
      out[keyOf(targetOf(i, mappings))] =
        i.resource === "endpoints"
          ? "skipped: the endpoints controller recreates them from Services"
          : i.resource === "endpointslices.discovery.k8s.io"
            ? "skipped: the endpoint slice controller recreates them from Services"
            : i.resource === "controllerrevisions.apps"
              ? "skipped: workload controllers record their own revisions"
              : i.resource === "configmaps" && i.name === "kube-root-ca.crt"
                ? "skipped: the controller manager publishes the cluster's CA into every namespace"
                : owner
                  ? `skipped: its controller ${owner.kind} ${owner.name} comes back with the restore and recreates it`
                  : !i.namespace && i.resource !== "namespaces" && existing
                    ? existing(i)
                    : "created";
    }
    return out;
  }

  function actualOutcomes({ results }: RestoreOutcome): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of results.items) {
      let said = r.reason ? `${r.outcome}: ${r.reason}` : r.outcome;
      // The ServiceAccount controller races the restore to a new namespace's "default".
      if (r.resource === "serviceaccounts" && r.name === "default" && said.endsWith("as in the backup"))
        said = "created";
      out[keyOf(r)] = said;
    }
    return out;
  }

  /** The items a restore wrote or found in place: all but those it leaves to others. */
  const restoredItems = (outcome: RestoreOutcome, mappings: Record<string, string>) => {
    const left = new Set(
      outcome.results.items
        .filter((r) => r.outcome === "skipped" && !r.reason?.startsWith("it exists"))
        .map(keyOf),
    );
    return items.filter((i) => !left.has(keyOf(targetOf(i, mappings))));
  };

  /** Every restored object, live in the target, against its original (mapped, if asked). */
  async function compare(
    target: KubeClient,
    outcome: RestoreOutcome,
    mappings: Record<string, string> = {},
    leftAsItWas: (i: Item) => boolean = () => false,
  ) {
    const live: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const i of restoredItems(outcome, mappings)) {
      const original = originals.get(keyOf(i)) as KubeObject;
      const want = leftAsItWas(i) ? original : mapNamespaces(original, mappings);
      const where = targetOf(i, mappings);
      const got = await read(target, where, original.apiVersion);
      live[keyOf(where)] = got ? normalize(got) : "<absent>";
      expected[keyOf(where)] = normalize(want);
    }
    assertSameEntries(live, expected);
  }

  it("backs up every part of the application, and what its controllers made", () => {
    const kinds = new Set(items.map((i) => i.resource));
    for (const gr of [
      "namespaces",
      "storageclasses.storage.k8s.io",
      "persistentvolumes",
      "persistentvolumeclaims",
      "serviceaccounts",
      `roles.${RBAC}`,
      `rolebindings.${RBAC}`,
      "configmaps",
      "secrets",
      "services",
      "deployments.apps",
      "replicasets.apps",
      "statefulsets.apps",
      "jobs.batch",
      "cronjobs.batch",
      "pods",
      "ingresses.networking.k8s.io",
      "networkpolicies.networking.k8s.io",
      "horizontalpodautoscalers.autoscaling",
      "poddisruptionbudgets.policy",
      CRDS,
      crd,
    ])
      assert.ok(kinds.has(gr), `the backup holds ${gr}`);
    assert.equal(items.filter((i) => i.resource === "services").length, 5);
    assert.ok(items.some((i) => i.resource === "persistentvolumeclaims" && i.name === "data-db-0"));
  });

  it("restores into the same cluster, after the application and its cluster objects were deleted", async () => {
    await remove(client, `/api/v1/namespaces/${ns}`);
    await gone(client, { resource: "namespaces", name: ns }, "v1");
    // The volume is Retain: deleting its claim leaves it Released, so it goes by hand.
    await remove(client, `/api/v1/persistentvolumes/${pv}`);
    await remove(client, `/apis/storage.k8s.io/v1/storageclasses/${sc}`);
    await remove(client, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    await gone(client, { resource: "persistentvolumes", name: pv }, "v1");
    await gone(client, { resource: "storageclasses.storage.k8s.io", name: sc }, "storage.k8s.io/v1");
    await gone(client, { resource: CRDS, name: crd }, "apiextensions.k8s.io/v1");

    const outcome = await restore("same-cluster", kc);
    assertSameEntries(actualOutcomes(outcome), expectedOutcomes({}));
    assert.equal(outcome.record.status.counts.failed, 0);
    assert.equal(outcome.record.status.phase, "Completed");
    // The restored claim and volume find each other again, by name.
    await claimBound(client, ns);
    await compare(client, outcome);
    await controllersAtWork(client, ns);
  });

  it("restores into a mapped namespace beside the original, leaving cluster objects as they are", async () => {
    const mappings = { [ns]: copy };
    const outcome = await restore("mapped", kc, {
      includeNamespaces: [ns],
      namespaceMappings: mappings,
      existingResourcePolicy: "none",
    });
    // The class and the CRD are back from the first restore, exactly as in the backup. The
    // volume is not: the backup's, mapped, would be claimed by copy/data, but the live one is
    // bound to the original claim, and "none" must not take it away from a running application
    // (so copy/data cannot bind: without volume data, a mapped copy shares no volume).
    const differs = "skipped: it exists and differs from the backup; left as it is";
    const existing = (i: Item) =>
      i.resource === "persistentvolumes" ? differs : "skipped: it exists already, as in the backup";
    assertSameEntries(actualOutcomes(outcome), expectedOutcomes(mappings, existing));
    assert.deepEqual(outcome.results.items.find((r) => r.resource === "persistentvolumes")?.diff, [
      `/spec/claimRef/namespace: ${JSON.stringify(ns)} -> ${JSON.stringify(copy)}`,
    ]);
    assert.equal(outcome.record.status.counts.failed, 0);
    assert.equal(outcome.record.status.phase, "Completed");
    // Namespaced objects are the originals, moved; cluster-scoped ones the first restore's.
    await compare(client, outcome, mappings, (i) => i.namespace === undefined && i.resource !== "namespaces");
    await controllersAtWork(client, copy);
  });

  it("restores into a second cluster that has never seen the application", async () => {
    assert.ok(second, "the second cluster started");
    const target = new KubeClient(second.kubeConfig());
    const outcome = await restore("second-cluster", second.kubeConfig());
    assertSameEntries(actualOutcomes(outcome), expectedOutcomes({}));
    assert.equal(outcome.record.status.counts.failed, 0);
    assert.equal(outcome.record.status.phase, "Completed");
    await established(target);
    await claimBound(target, ns);
    await compare(target, outcome);
    await controllersAtWork(target, ns);
  });
});
