// The test cluster is a real control plane: the apiserver stores and serves objects, and the
// controller manager reconciles them. No kubelet runs, so Pods are created but stay Pending.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AppsV1Api,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  VersionApi,
} from "@kubernetes/client-node";
import { forConfigMap, forCrd, forDeployment, forNamespace } from "../builders/index.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";
import { startCluster } from "./cluster.js";
import { testEnvironment, type TestEnvironment } from "./environment.js";

describe("test cluster", () => {
  let env: TestEnvironment;
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    env = await testEnvironment();
    core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    ns = uniqueName("env");
    await core.createNamespace({ body: forNamespace(ns).result() });
  });
  after(async () => {
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await env?.stop();
  });

  it("serves the version it was built as", async () => {
    const info = await env.cluster.kubeConfig().makeApiClient(VersionApi).getCode();
    assert.equal(info.gitVersion, `v${env.cluster.version}`);
  });

  it("creates, lists, patches and deletes objects through @kubernetes/client-node", async () => {
    for (const name of ["alpha", "beta"]) {
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: forConfigMap(ns, name).labels({ suite: "crud" }).data({ greeting: "hello" }).result(),
      });
    }
    const listed = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: "suite=crud" });
    assert.deepEqual(listed.items.map((cm) => cm.metadata?.name).sort(), ["alpha", "beta"]);

    await core.patchNamespacedConfigMap(
      { name: "alpha", namespace: ns, body: { data: { greeting: "patched" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const patched = await core.readNamespacedConfigMap({ name: "alpha", namespace: ns });
    assert.equal(patched.data?.greeting, "patched");

    await core.deleteNamespacedConfigMap({ name: "alpha", namespace: ns });
    await assert.rejects(
      core.readNamespacedConfigMap({ name: "alpha", namespace: ns }),
      (err) => statusOf(err) === 404,
    );
  });

  it("gives a Deployment its ReplicaSet and Pods through the controller manager", async () => {
    const apps = env.cluster.kubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: forDeployment(ns, "web").replicas(2).result(),
    });

    const replicaSet = await eventually("a ReplicaSet owned by deployment web", async () => {
      const sets = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: "app=web" });
      return sets.items.find((rs) =>
        rs.metadata?.ownerReferences?.some((o) => o.kind === "Deployment" && o.name === "web"),
      );
    });
    const pods = await eventually("two Pods owned by the ReplicaSet", async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
      const owned = list.items.filter((p) =>
        p.metadata?.ownerReferences?.some((o) => o.uid === replicaSet.metadata?.uid),
      );
      return owned.length === 2 ? owned : undefined;
    });
    // Simulated: without a kubelet no Pod is ever bound to a node or started.
    assert.ok(pods.every((p) => p.status?.phase === "Pending"));

    // Garbage collection: deleting the Deployment removes its ReplicaSet and Pods.
    await apps.deleteNamespacedDeployment({ name: "web", namespace: ns, propagationPolicy: "Background" });
    await eventually("the garbage collector to remove the ReplicaSet and Pods", async () => {
      const sets = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: "app=web" });
      const left = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
      return sets.items.length === 0 && left.items.length === 0;
    });
  });

  it("finalizes a deleted namespace until it disappears", async () => {
    const doomed = uniqueName("doomed");
    await core.createNamespace({ body: forNamespace(doomed).result() });
    await core.createNamespacedConfigMap({
      namespace: doomed,
      body: forConfigMap(doomed, "content").result(),
    });
    await core.deleteNamespace({ name: doomed });
    await eventually(`namespace ${doomed} to be gone`, async () => {
      try {
        await core.readNamespace({ name: doomed });
        return false;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        throw err;
      }
    });
  });

  it("establishes a CRD and serves its custom resources", async () => {
    const group = `${uniqueName("t")}.arca.test`;
    const crd = forCrd(group, "Widget").result();
    const ext = env.cluster.kubeConfig().makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    try {
      await eventually("the CRD to be Established", async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      });
      const custom = env.cluster.kubeConfig().makeApiClient(CustomObjectsApi);
      const widget = {
        apiVersion: `${group}/v1`,
        kind: "Widget",
        metadata: { name: "w1" },
        spec: { size: 3, extra: { kept: true } },
      };
      await eventually("the custom resource endpoint to accept a Widget", () =>
        custom.createNamespacedCustomObject({
          group,
          version: "v1",
          namespace: ns,
          plural: "widgets",
          body: widget,
        }),
      );
      const got = (await custom.getNamespacedCustomObject({
        group,
        version: "v1",
        namespace: ns,
        plural: "widgets",
        name: "w1",
      })) as {
        spec: unknown;
      };
      assert.deepEqual(got.spec, { size: 3, extra: { kept: true } });
    } finally {
      await ext.deleteCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
    }
  });
});

describe("two clusters", () => {
  it("do not see each other's objects", async () => {
    const env = await testEnvironment();
    const second = await startCluster({ name: "second" });
    try {
      assert.notEqual(second.server, env.cluster.server);
      const first = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
      const other = second.kubeConfig().makeApiClient(CoreV1Api);
      const name = uniqueName("only-here");
      await first.createNamespace({ body: forNamespace(name).result() });
      try {
        await assert.rejects(other.readNamespace({ name }), (err) => statusOf(err) === 404);
        const names = (await other.listNamespace()).items.map((n) => n.metadata?.name);
        assert.ok(!names.includes(name));
        assert.ok(names.includes("default"), "the second cluster serves its own namespaces");
      } finally {
        await first.deleteNamespace({ name });
      }
    } finally {
      await second.stop();
      await env.stop();
    }
  });
});
