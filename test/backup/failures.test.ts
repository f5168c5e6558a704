// A backup that cannot finish leaves no snapshot and says why; one that can, does, even when
// the API server restarts under it or the user may not read everything.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { BackupExistsError } from "../../src/backup/engine.js";
import type { Repository } from "../../src/repo/repository.js";
import { forConfigMap, forNamespace, forSecret } from "../builders/index.js";
import { startCluster, type Cluster } from "../env/cluster.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  backUp,
  createObjects,
  HookedClient,
  scratchRepository,
  storedItems,
  within,
} from "../support/backup.js";
import { limitedUser } from "../support/users.js";
import { uniqueName } from "../support/wait.js";

describe("backup failures", () => {
  let repo: Repository;
  let removeRepo: () => void;
  before(async () => {
    ({ repo, remove: removeRepo } = await scratchRepository());
  });
  after(() => {
    repo?.close();
    removeRepo?.();
  });

  describe("on the shared cluster", () => {
    let env: TestEnvironment;
    let kc: KubeConfig;
    const ns = uniqueName("fail");

    before(async () => {
      env = await testEnvironment();
      kc = env.cluster.kubeConfig();
      await createObjects(kc, [
        forNamespace(ns).result(),
        forConfigMap(ns, "settings").result(),
        forSecret(ns, "password").stringData({ p: "x" }).result(),
      ]);
    });
    after(async () => {
      await kc
        ?.makeApiClient(CoreV1Api)
        .deleteNamespace({ name: ns })
        .catch(() => undefined);
      await env?.stop();
    });

    it("refuses a name already used in the location, and leaves the first backup alone", async () => {
      const first = await backUp(kc, repo, "once", { includeNamespaces: [ns] });
      await assert.rejects(
        backUp(kc, repo, "once", { includeNamespaces: [ns] }),
        (err) => err instanceof BackupExistsError && /a backup named once already exists/.test(err.message),
      );
      const snapshots = await repo.listSnapshots();
      assert.deepEqual(
        snapshots.filter((s) => s.snapshot.tags?.includes("backup=once")).map((s) => s.id),
        [first.snapshot],
      );
    });

    it("writes no snapshot when it is aborted", async () => {
      const controller = new AbortController();
      const client = new HookedClient(
        kc,
        async (path) => {
          if (path.includes("/secrets")) controller.abort(new Error("operator pressed Ctrl-C"));
        },
        { signal: controller.signal },
      );
      const before = (await repo.listSnapshots()).length;
      await assert.rejects(backUp(kc, repo, "aborted", { includeNamespaces: [ns] }, { client }));
      assert.equal((await repo.listSnapshots()).length, before);
    });

    it("records what RBAC forbids as errors, backs up the rest, and ends PartiallyFailed", async () => {
      const limited = await limitedUser(kc, ns, [
        {
          apiGroups: [""],
          resources: ["namespaces", "configmaps", "serviceaccounts"],
          verbs: ["get", "list"],
        },
      ]);
      const outcome = await backUp(limited, repo, "limited", { includeNamespaces: [ns] });
      assert.equal(outcome.record.status.phase, "PartiallyFailed");
      const items = within(await storedItems(repo, outcome.snapshot), [ns]);
      assert.ok(items.includes(`configmaps/${ns}/settings`), items.join(" "));
      assert.ok(!items.some((i) => i.startsWith("secrets/")));
      const secrets = outcome.results.errors.find((e) => e.resource === "secrets");
      assert.ok(secrets, JSON.stringify(outcome.results.errors));
      assert.equal(secrets.namespace, ns);
      assert.match(secrets.message, /HTTP 403 Forbidden/);
      assert.equal(outcome.record.status.errors, outcome.results.errors.length);
    });
  });

  describe("on a cluster whose API server goes away", () => {
    let cluster: Cluster;
    let kc: KubeConfig;
    const ns = "restart";

    before(async () => {
      cluster = await startCluster({ name: "restart" });
      kc = cluster.kubeConfig();
      await createObjects(kc, [
        forNamespace(ns).result(),
        ...Array.from({ length: 20 }, (_, i) => forConfigMap(ns, `cm-${i}`).result()),
      ]);
    });
    after(() => cluster?.stop());

    it("retries through an API server restart and completes with every object", async () => {
      let restart: Promise<void> | undefined;
      const client = new HookedClient(kc, async (path) => {
        if (!restart && path.includes(`/namespaces/${ns}/configmaps`))
          restart = cluster.restartApiserver(1000);
      });
      const outcome = await backUp(
        kc,
        repo,
        "through-restart",
        { includeNamespaces: [ns] },
        { client, pageSize: 5 },
      );
      await restart;
      assert.equal(outcome.record.status.phase, "Completed", JSON.stringify(outcome.results));
      const items = within(await storedItems(repo, outcome.snapshot), [ns]).filter((i) => i.includes("/cm-"));
      assert.equal(items.length, 20);
    });

    it("fails, naming the API server, and writes no snapshot when the server stays away", async () => {
      let outage: Promise<void> | undefined;
      const client = new HookedClient(
        kc,
        async (path) => {
          if (!outage && path.includes(`/namespaces/${ns}/configmaps`))
            outage = cluster.restartApiserver(8000);
        },
        { retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 } },
      );
      const before = (await repo.listSnapshots()).length;
      await assert.rejects(
        backUp(kc, repo, "outage", { includeNamespaces: [ns] }, { client }),
        (err) =>
          err instanceof Error && err.message.includes(cluster.server) && /ECONNREFUSED/.test(err.message),
      );
      await outage;
      assert.equal((await repo.listSnapshots()).length, before);
    });
  });
});
