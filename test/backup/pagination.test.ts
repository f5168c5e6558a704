// Lists are paginated and streamed: a backup past the page size loses nothing while objects
// change under it, a page's items survive the next page's arrival into a reused buffer, and an
// expired continue token (etcd compacted mid-list) restarts the list.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { backupLog } from "../../src/backup/catalog.js";
import { KubeClient } from "../../src/kube/client.js";
import { discoverResources } from "../../src/kube/discovery.js";
import { listObjects } from "../../src/kube/list.js";
import type { Repository } from "../../src/repo/repository.js";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { startCluster } from "../env/cluster.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  backUp,
  compactEtcd,
  createObjects,
  HookedClient,
  scratchRepository,
  storedItems,
  within,
} from "../support/backup.js";
import { uniqueName } from "../support/wait.js";

const PAGE = 7;
const COUNT = 50;

describe("paginated backup", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let repo: Repository;
  let removeRepo: () => void;
  const ns = uniqueName("page");
  const names = Array.from({ length: COUNT }, (_, i) => `item-${String(i).padStart(3, "0")}`);

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ({ repo, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [
      forNamespace(ns).result(),
      ...names.map((n) => forConfigMap(ns, n).data({ n }).result()),
    ]);
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await env?.stop();
  });

  const configMaps = async (snapshot: string) =>
    within(await storedItems(repo, snapshot), [ns]).filter(
      (i) => i.startsWith("configmaps/") && !i.endsWith("kube-root-ca.crt"),
    );

  it("keeps every object that existed throughout, while others come and go between pages", async () => {
    let pages = 0;
    const churn = names.slice(0, 10);
    const client = new HookedClient(kc, async (path) => {
      if (!path.includes(`/namespaces/${ns}/configmaps`) || !path.includes("continue=")) return;
      // Between pages: delete some already listed, add some that sort before and after.
      if (++pages === 2) {
        for (const n of churn.slice(0, 3)) await core.deleteNamespacedConfigMap({ name: n, namespace: ns });
        await createObjects(kc, [forConfigMap(ns, "aaa-new").result(), forConfigMap(ns, "zzz-new").result()]);
      }
    });
    const outcome = await backUp(kc, repo, "churn", { includeNamespaces: [ns] }, { client, pageSize: PAGE });
    const stored = await configMaps(outcome.snapshot);
    const survivors = names.slice(3).map((n) => `configmaps/${ns}/${n}`);
    assert.ok(pages >= COUNT / PAGE - 1, `the list took ${pages} continued pages`);
    for (const s of survivors) assert.ok(stored.includes(s), `${s} is missing`);
    assert.equal(new Set(stored).size, stored.length, "no object is stored twice");
    assert.equal(outcome.record.status.phase, "Completed");
  });

  it("keeps a page's items intact while the next page arrives into a reused buffer", async () => {
    // The backup lists into two buffers taken in turn. The next page is on its way while the
    // caller works through this one; the caller here takes its time, so that page lands
    // first. Every item must still be its own object.
    const client = new KubeClient(kc);
    const configmaps = (await discoverResources(client)).resources.find((r) => r.resource === "configmaps");
    assert.ok(configmaps);
    let pages = 0;
    for await (const page of listObjects(client, configmaps, {
      namespace: ns,
      limit: PAGE,
      reuseBuffers: true,
    })) {
      pages++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const item of page) {
        const object = JSON.parse(Buffer.concat(item.bytes).toString("utf8")) as {
          metadata: { name: string };
          data?: { n?: string };
        };
        assert.equal(object.metadata.name, item.head.metadata.name);
        if (object.metadata.name.startsWith("item-")) assert.equal(object.data?.n, object.metadata.name);
      }
    }
    client.close();
    assert.ok(pages > 2, `${pages} pages`);
  });

  it("starts the list again when etcd compaction expires the continue token", async (t) => {
    // The watch cache serves continued lists from its own snapshots, so compaction only
    // expires tokens on a server that reads etcd directly, as one without the cache does.
    const cluster = await startCluster({ name: "no-watch-cache", apiserverArgs: ["--watch-cache=false"] });
    t.after(() => cluster.stop());
    const kc = cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await createObjects(kc, [
      forNamespace(ns).result(),
      ...names.map((n) => forConfigMap(ns, n).data({ n }).result()),
    ]);
    let compacted = false;
    const client = new HookedClient(kc, async (path) => {
      if (!compacted && path.includes(`/namespaces/${ns}/configmaps`) && path.includes("continue=")) {
        compacted = true;
        // A write moves etcd past the token's revision, and compaction then drops it.
        await createObjects(kc, [forConfigMap(ns, "written-mid-list").result()]);
        await compactEtcd(cluster.etcdUrl);
      }
    });
    const outcome = await backUp(
      kc,
      repo,
      "compacted",
      { includeNamespaces: [ns] },
      { client, pageSize: PAGE },
    );
    assert.ok(compacted);
    const live = (await core.listNamespacedConfigMap({ namespace: ns })).items
      .map((c) => `configmaps/${ns}/${c.metadata?.name}`)
      .filter((i) => !i.endsWith("kube-root-ca.crt"))
      .sort();
    assert.deepEqual(await configMaps(outcome.snapshot), live);
    assert.equal(outcome.record.status.phase, "Completed");
    assert.match((await backupLog(repo, "compacted")).toString(), /continue token expired; listing again/);
  });
});
