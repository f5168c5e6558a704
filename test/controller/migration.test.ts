// Migration through a shared location: cluster A backs up; cluster B, a second real cluster
// whose location is the same bucket and prefix (ReadOnly there), sees the backup through sync
// and restores it into a mapped namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { startCluster, type Cluster } from "../env/cluster.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import {
  installArca,
  startController,
  type ControllerProcess,
  type Installed,
} from "../support/controller.js";
import { eventually, uniqueName } from "../support/wait.js";

describe("migration between two clusters sharing a location", () => {
  let env: TestEnvironment;
  let clusterB: Cluster;
  let a: Installed;
  let b: Installed;
  const controllers: ControllerProcess[] = [];
  const app = uniqueName("migrating");
  const prefix = uniqueName("shared");

  before(async () => {
    env = await testEnvironment();
    clusterB = await startCluster();
    a = await installArca(env, { prefix });
    b = await installArca(env, { prefix, cluster: clusterB });
    await b.objects.patch("BackupLocation", "default", { spec: { accessMode: "ReadOnly" } });
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(app).result(),
      forConfigMap(app, "settings").data({ region: "a" }).result(),
    ]);
    controllers.push(await startController(a), await startController(b));
  });

  after(async () => {
    for (const c of controllers) await c.stop();
    await clusterB?.stop();
    await env?.stop(); // a private environment when the file runs alone; shared under npm test
  });

  it("backs up in A, and B restores the backup it learnt of through sync", async () => {
    await a.objects.create("Backup", "move-me", { includedNamespaces: [app] });
    await eventually("the backup in A to complete", async () => {
      const s = (await a.objects.get("Backup", "move-me"))?.status;
      return (
        s?.phase === "Completed" ||
        (s?.phase && s.phase !== "New" && s.phase !== "InProgress" && assert.fail(JSON.stringify(s)))
      );
    });
    const synced = await eventually("B to see the backup", async () => {
      const s = (await b.objects.get("Backup", "move-me"))?.status;
      return s?.phase === "Completed" ? s : undefined;
    });
    assert.ok((synced.progress?.itemsBackedUp ?? 0) >= 2);
    await b.objects.create("Restore", "arrive", {
      backupName: "move-me",
      namespaceMapping: { [app]: `${app}-b` },
    });
    const restored = await eventually("the restore in B to finish", async () => {
      const s = (await b.objects.get("Restore", "arrive"))?.status;
      return s?.phase && s.phase !== "New" && s.phase !== "InProgress" ? s : undefined;
    });
    assert.equal(restored.phase, "Completed", JSON.stringify(restored));
    const cm = await clusterB
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace: `${app}-b`, name: "settings" });
    assert.deepEqual(cm.data, { region: "a" });
  });

  it("refuses to write from the ReadOnly side", async () => {
    await b.objects.create("Backup", "from-b", {});
    const status = await eventually("B's backup to be refused", async () => {
      const s = (await b.objects.get("Backup", "from-b"))?.status;
      return s?.phase === "FailedValidation" ? s : undefined;
    });
    assert.match(status.validationErrors?.join() ?? "", /ReadOnly/);
  });
});
