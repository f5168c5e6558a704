// Backup filters against the real cluster, with Velero's meanings: namespaces by glob,
// resources by any of their names, label selectors, and cluster-scoped inclusion.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Repository } from "../../src/repo/repository.js";
import { forConfigMap, forDeployment, forNamespace, forSecret } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  backUp,
  createObjects,
  HookedClient,
  scratchRepository,
  storedItems,
  within,
} from "../support/backup.js";
import { eventually, uniqueName } from "../support/wait.js";

describe("backup filters", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let repo: Repository;
  let removeRepo: () => void;
  const run = uniqueName("flt");
  const [a, b, skip] = [`${run}-a`, `${run}-b`, `${run}-skip`];
  const ours = [a, b, skip];
  let n = 0;
  const backup = async (spec: Parameters<typeof backUp>[3]) => {
    const outcome = await backUp(kc, repo, `f${++n}`, spec);
    return { outcome, items: within(await storedItems(repo, outcome.snapshot), ours) };
  };

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    ({ repo, remove: removeRepo } = await scratchRepository());
    for (const ns of ours) {
      await createObjects(kc, [
        forNamespace(ns).result(),
        forConfigMap(ns, "web-settings").labels({ app: "web" }).data({ mode: "fast" }).result(),
        forConfigMap(ns, "db-settings").labels({ app: "db" }).result(),
        forSecret(ns, "web-password")
          .labels({ app: "web", tier: "front" })
          .stringData({ p: "s3cret" })
          .result(),
        forDeployment(ns, "web").labels({ app: "web" }).result(),
      ]);
    }
    // The Deployment's ReplicaSet and Pod come from the controller manager; wait for them so
    // that every backup sees the same objects.
    const core = kc.makeApiClient(CoreV1Api);
    for (const ns of ours) {
      const pod = await eventually(
        `the web pod in ${ns}`,
        async () => (await core.listNamespacedPod({ namespace: ns })).items[0],
      );
      owned.set(ns, [
        `pods/${ns}/${pod.metadata?.name}`,
        `replicasets.apps/${ns}/${pod.metadata?.ownerReferences?.[0]?.name}`,
      ]);
    }
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    await env?.stop();
  });

  /** The Pod and ReplicaSet of each namespace's Deployment. */
  const owned = new Map<string, string[]>();
  const everything = (ns: string) => [
    ...(owned.get(ns) ?? []),
    `configmaps/${ns}/db-settings`,
    `configmaps/${ns}/web-settings`,
    `deployments.apps/${ns}/web`,
    `namespaces/${ns}`,
    `secrets/${ns}/web-password`,
    `serviceaccounts/${ns}/default`,
  ];
  // The root CA ConfigMap that the controller manager publishes into every namespace.
  const rootCa = (ns: string) => `configmaps/${ns}/kube-root-ca.crt`;

  it("includes namespaces by glob and excludes by name", async () => {
    const { items, outcome } = await backup({ includeNamespaces: [`${run}-*`], excludeNamespaces: [skip] });
    assert.deepEqual(items, [...everything(a), rootCa(a), ...everything(b), rootCa(b)].sort());
    assert.equal(outcome.record.status.phase, "Completed");
  });

  it("excludes namespaces from all of them, listing each type once across the cluster", async () => {
    let lists = 0;
    const client = new HookedClient(kc, async (path) => {
      // Lists that start (not the pages that continue them).
      if (/\/configmaps\?/.test(path) && !path.includes("continue=")) lists++;
    });
    const outcome = await backUp(kc, repo, `f${++n}`, { excludeNamespaces: [skip] }, { client });
    const items = within(await storedItems(repo, outcome.snapshot), ours);
    assert.deepEqual(items, [...everything(a), rootCa(a), ...everything(b), rootCa(b)].sort());
    assert.equal(lists, 1, "one cluster-wide list of config maps, not one per namespace");
  });

  it("includes resources by short name and by resource.group", async () => {
    const { items } = await backup({ includeNamespaces: [a], includeResources: ["cm", "deployments.apps"] });
    assert.deepEqual(items, [
      `configmaps/${a}/db-settings`,
      rootCa(a),
      `configmaps/${a}/web-settings`,
      `deployments.apps/${a}/web`,
      // The namespace comes with its items, so that they can be restored into it.
      `namespaces/${a}`,
    ]);
  });

  it("excludes resources by plural name", async () => {
    const { items } = await backup({ includeNamespaces: [a], excludeResources: ["secrets", "configmaps"] });
    assert.deepEqual(
      items,
      [
        ...(owned.get(a) ?? []),
        `deployments.apps/${a}/web`,
        `namespaces/${a}`,
        `serviceaccounts/${a}/default`,
      ].sort(),
    );
  });

  it("keeps only objects matching --selector", async () => {
    const { items } = await backup({ includeNamespaces: [a, b], selector: "app=web,tier in (front)" });
    assert.deepEqual(items, [
      `namespaces/${a}`,
      `namespaces/${b}`,
      `secrets/${a}/web-password`,
      `secrets/${b}/web-password`,
    ]);
  });

  it("keeps objects matching any --or-selector", async () => {
    const { items } = await backup({ includeNamespaces: [a], orSelectors: ["app=db", "tier=front"] });
    assert.deepEqual(items, [`configmaps/${a}/db-settings`, `namespaces/${a}`, `secrets/${a}/web-password`]);
  });

  it("combines namespace, resource and label filters", async () => {
    const { items } = await backup({
      includeNamespaces: [`${run}-*`],
      excludeNamespaces: [`${run}-s*`],
      includeResources: ["configmaps", "secrets"],
      excludeResources: ["secrets"],
      selector: "app!=db",
    });
    assert.deepEqual(items, [
      rootCa(a),
      `configmaps/${a}/web-settings`,
      rootCa(b),
      `configmaps/${b}/web-settings`,
      `namespaces/${a}`,
      `namespaces/${b}`,
    ]);
  });

  it("leaves cluster-scoped resources out with false and auto, and takes them all with true", async () => {
    const clusterScoped = async (mode: "true" | "false" | "auto") => {
      const { outcome } = await backup({ includeNamespaces: [a], includeClusterResources: mode });
      const all = await storedItems(repo, outcome.snapshot);
      return all.filter((i) => i.split("/").length === 2 && !i.startsWith("namespaces/"));
    };
    assert.deepEqual(await clusterScoped("false"), []);
    // Nothing in namespace a needs a cluster-scoped object.
    assert.deepEqual(await clusterScoped("auto"), []);
    const all = await clusterScoped("true");
    assert.ok(all.includes("clusterroles.rbac.authorization.k8s.io/cluster-admin"), all.join(" "));
    assert.ok(all.includes("priorityclasses.scheduling.k8s.io/system-cluster-critical"));
  });

  it("with all namespaces, auto takes cluster-scoped resources too, as Velero does", async () => {
    const { outcome } = await backup({ excludeResources: ["secrets"] });
    const all = await storedItems(repo, outcome.snapshot);
    assert.ok(all.includes("clusterroles.rbac.authorization.k8s.io/cluster-admin"));
    assert.ok(all.includes(`configmaps/${skip}/web-settings`));
    assert.ok(!all.some((i) => i.startsWith("secrets/")));
  });

  it("warns about resource names the cluster does not serve", async () => {
    const { outcome, items } = await backup({
      includeNamespaces: [a],
      includeResources: ["configmaps", "gizmos"],
    });
    assert.deepEqual(
      outcome.results.warnings.map((w) => [w.resource, w.message]),
      [["gizmos", "the cluster serves no resource by this name"]],
    );
    assert.ok(items.includes(`configmaps/${a}/web-settings`));
  });

  it("warns about namespace names that match nothing", async () => {
    const { outcome, items } = await backup({ includeNamespaces: [a, `${run}-typo`] });
    assert.deepEqual(
      outcome.results.warnings.map((w) => [w.name, w.message]),
      [[`${run}-typo`, "no namespace of the cluster matches this name"]],
    );
    assert.ok(items.includes(`namespaces/${a}`));
  });

  it("refuses --selector with --or-selector, and a malformed selector, before touching anything", async () => {
    const before = (await repo.listSnapshots()).length;
    await assert.rejects(backup({ selector: "app=web", orSelectors: ["app=db"] }), /cannot be used together/);
    await assert.rejects(backup({ selector: "app in web" }), /invalid label selector "app in web"/);
    assert.equal((await repo.listSnapshots()).length, before);
  });
});
