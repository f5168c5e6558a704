// The component as users run it: `arca install --image <Arca's image>` on a cluster with a real
// node, and the controller's Deployment runs as Pods there: it passes its probes through the
// kubelet, takes the lease, serves /metrics, and carries out Backups, Restores and Schedules.
// Deleting the leader Pod hands over to the standby; a backup in flight ends Failed with a
// reason and the next one completes. The object store sits behind a loopback fault proxy (to
// slow a backup down), which Pods reach at the node's gateway address (test/env/host.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { reachableFromPods } from "../env/node.js";
import { METRICS_PORT, NAMES } from "../../src/install/names.js";
import { createObjects } from "../support/backup.js";
import { finished, installArca, namespaceWithConfigMaps, type Installed } from "../support/controller.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { resticSnapshots } from "../support/restic.js";
import { eventually, uniqueName } from "../support/wait.js";

describe("the component, running as Pods on the node", () => {
  let env: TestEnvironment;
  let proxy: FaultProxy;
  let arca: Installed;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const app = uniqueName("pod-app");

  const isReady = (p: V1Pod) =>
    !p.metadata?.deletionTimestamp &&
    p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  const controllerPods = async () =>
    (
      await core.listNamespacedPod({
        namespace: arca.namespace,
        labelSelector: "app.kubernetes.io/name=arca",
      })
    ).items;
  /** /metrics of a controller Pod, through the API server's proxy to the Pod. */
  const metricsOf = async (pod: string) =>
    (await core.connectGetNamespacedPodProxyWithPath({
      namespace: arca.namespace,
      name: `${pod}:${METRICS_PORT}`,
      path: "metrics",
    })) as string;
  const leaderOf = async () => {
    for (const p of (await controllerPods()).filter(isReady)) {
      if (/^arca_leader 1$/m.test(await metricsOf(p.metadata!.name!))) return p.metadata!.name!;
    }
    return undefined;
  };
  const settled = <K extends "Backup" | "Restore">(kind: K, name: string) =>
    finished(arca, kind, name, 90_000);

  before(async () => {
    env = await testEnvironment({ node: true });
    const node = env.cluster.node!;
    proxy = await startFaultProxy(env.s3.endpoint);
    arca = await installArca(env, { image: node.arcaImage, endpoint: reachableFromPods(proxy.url, node) });
    core = arca.admin.makeApiClient(CoreV1Api);
    apps = arca.admin.makeApiClient(AppsV1Api);
    await createObjects(env.cluster.kubeConfig(), namespaceWithConfigMaps(app, 20));
  });

  after(async () => {
    await proxy?.stop();
    await env?.stop(); // a private environment when the file runs alone; shared under npm test
  });

  it("runs the controller Pod: Ready through the kubelet's probes, leading, serving /metrics", async () => {
    const pod = await eventually(
      "the controller Pod to be Ready",
      async () => (await controllerPods()).find(isReady),
      180_000,
    );
    assert.equal(pod.spec?.nodeName, env.cluster.node!.nodeName);
    assert.equal(pod.spec?.containers[0]?.image, env.cluster.node!.arcaImage);
    const name = pod.metadata!.name!;
    await eventually("the Pod to lead", async () => (await leaderOf()) === name, 60_000);
    assert.match(await metricsOf(name), /^arca_location_available\{location="default"\} 1/m);
  });

  it("runs the node agent on the node, Ready because it sees the kubelet's pod directory", async () => {
    const agent = await eventually(
      "the node agent's Pod to be Ready",
      async () =>
        (
          await core.listNamespacedPod({
            namespace: arca.namespace,
            labelSelector: "app.kubernetes.io/name=arca-node-agent",
          })
        ).items.find(isReady),
      180_000,
    );
    assert.equal(agent.spec?.nodeName, env.cluster.node!.nodeName);
    const podDirs = agent.spec?.volumes?.map((v) => v.hostPath?.path).filter(Boolean);
    assert.ok(podDirs?.includes(`${env.cluster.node!.kubeletRootDir}/pods`), JSON.stringify(podDirs));
  });

  it("runs a Backup to Completed and restores it, as Pods", async () => {
    await arca.objects.create("Backup", "in-pod", { includedNamespaces: [app] });
    const backup = await settled("Backup", "in-pod");
    assert.equal(backup.status?.phase, "Completed", JSON.stringify(backup.status));
    const [snapshot] = (await resticSnapshots(arca.restic)).filter((s) => s.tags?.includes("backup=in-pod"));
    assert.equal(snapshot?.id, backup.status?.snapshotID, "restic reads the snapshot the Pod wrote");

    const target = uniqueName("pod-restored");
    await arca.objects.create("Restore", "in-pod-restore", {
      backupName: "in-pod",
      namespaceMapping: { [app]: target },
    });
    assert.equal((await settled("Restore", "in-pod-restore")).status?.phase, "Completed");
    const cm = await core.readNamespacedConfigMap({ namespace: target, name: "cm-7" });
    assert.deepEqual(cm.data, { i: "7" });
  });

  it("fires a schedule", async () => {
    await arca.objects.create("Schedule", "pod-often", {
      schedule: "@every 5s",
      template: { includedNamespaces: [app] },
    });
    const done = await eventually(
      "a completed backup of the schedule",
      async () =>
        (await arca.objects.list("Backup", "arca.dev/schedule=pod-often")).find(
          (b) => b.status?.phase === "Completed",
        ),
      120_000,
    );
    await arca.objects.patch("Schedule", "pod-often", { spec: { paused: true } });
    assert.match(done.metadata.name, /^pod-often-/);
  });

  it("hands over when the leader Pod is deleted: a backup in flight fails with a reason, the next completes", async () => {
    const scale = await apps.readNamespacedDeploymentScale({
      namespace: arca.namespace,
      name: NAMES.deployment,
    });
    scale.spec = { replicas: 2 };
    await apps.replaceNamespacedDeploymentScale({
      namespace: arca.namespace,
      name: NAMES.deployment,
      body: scale,
    });
    await eventually(
      "two Ready controller Pods",
      async () => (await controllerPods()).filter(isReady).length === 2,
      180_000,
    );
    const leader = await eventually("a leader", leaderOf, 60_000);
    // Every store request now takes a while, so the backup is still running when its Pod goes.
    proxy.delay(700);
    await arca.objects.create("Backup", "in-flight", { includedNamespaces: [app] });
    await eventually(
      "the backup to start",
      async () => (await arca.objects.get("Backup", "in-flight"))?.status?.phase === "InProgress",
    );
    await core.deleteNamespacedPod({ namespace: arca.namespace, name: leader, gracePeriodSeconds: 0 });
    proxy.delay(0);
    const next = await eventually("the standby to lead", async () => {
      const l = await leaderOf();
      return l && l !== leader ? l : undefined;
    }, 90_000); // prettier-ignore
    const failed = await settled("Backup", "in-flight");
    assert.equal(failed.status?.phase, "Failed");
    assert.match(failed.status?.failureReason ?? "", /\w/, "the failure says why");
    assert.equal(
      (await resticSnapshots(arca.restic)).filter((s) => s.tags?.includes("backup=in-flight")).length,
      0,
      "the interrupted backup left no snapshot",
    );
    await arca.objects.create("Backup", "after-handover", { includedNamespaces: [app] });
    assert.equal((await settled("Backup", "after-handover")).status?.phase, "Completed");
    assert.equal(await leaderOf(), next);
  });
});
