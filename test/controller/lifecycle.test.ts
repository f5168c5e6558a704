// The component end to end: `arca install`, then `arca server` running as the installed
// ServiceAccount. Backups and restores go through their CRs; schedules fire and retention and
// TTL delete data; a Backup object deleted by hand leaves the data, and sync brings it back.
// There is no kubelet: the controller runs as a local process instead of the Deployment's Pod.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { loadLogs } from "../../src/api/logs.js";
import { KubeClient } from "../../src/kube/client.js";
import { createObjects } from "../support/backup.js";
import {
  finished as finishedIn,
  installArca,
  startController,
  type ControllerProcess,
  type Installed,
} from "../support/controller.js";
import { eventually, uniqueName } from "../support/wait.js";
import { resticSnapshots } from "../support/restic.js";

describe("the controller, installed", () => {
  let env: TestEnvironment;
  let arca: Installed;
  let controller: ControllerProcess;
  const app = uniqueName("ctl-app");

  const finished = <K extends "Backup" | "Restore">(kind: K, name: string) => finishedIn(arca, kind, name);
  const snapshotsOf = async (backup: string) =>
    (await resticSnapshots(arca.restic)).filter((s) => s.tags?.includes(`backup=${backup}`));

  before(async () => {
    env = await testEnvironment();
    arca = await installArca(env);
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(app).result(),
      forConfigMap(app, "settings").data({ mode: "fast" }).result(),
    ]);
    controller = await startController(arca);
    await eventually("the default location to be Available", async () => {
      const l = await arca.objects.get("BackupLocation", "default");
      return l?.status?.phase === "Available";
    });
  });

  after(async () => {
    await controller?.stop();
    await env?.stop(); // a private environment when the file runs alone; shared under npm test
  });

  it("runs a Backup CR to Completed, with its snapshot readable by restic and its log in the cluster", async () => {
    await arca.objects.create("Backup", "first", { includedNamespaces: [app], ttl: "24h" });
    const backup = await finished("Backup", "first");
    assert.equal(backup.status?.phase, "Completed", JSON.stringify(backup.status));
    assert.ok((backup.status?.progress?.itemsBackedUp ?? 0) >= 2, "the namespace and the ConfigMap");
    assert.ok(backup.status?.expiration, "a TTL gives an expiration");
    assert.deepEqual(
      backup.status?.conditions?.map((c) => [c.type, c.status]),
      [["Succeeded", "True"]],
    );
    const [snapshot] = await snapshotsOf("first");
    assert.equal(snapshot?.id, backup.status?.snapshotID);
    const logs = await loadLogs(new KubeClient(arca.admin), arca.namespace, "backup", "first");
    assert.match(logs?.log.toString() ?? "", /backup finished/);
  });

  it("restores a Backup CR into a mapped namespace", async () => {
    const target = uniqueName("ctl-restored");
    await arca.objects.create("Restore", "first-restore", {
      backupName: "first",
      namespaceMapping: { [app]: target },
    });
    const restore = await finished("Restore", "first-restore");
    assert.equal(restore.status?.phase, "Completed", JSON.stringify(restore.status));
    const core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: target, name: "settings" });
    assert.deepEqual(cm.data, { mode: "fast" });
  });

  it("ends invalid objects in FailedValidation with what to fix, and the schema rejects malformed ones", async () => {
    await arca.objects.create("Backup", "two-selectors", { labelSelector: "a=b", orLabelSelectors: ["c=d"] });
    await arca.objects.create("Backup", "nowhere", { storageLocation: "no-such-location" });
    await arca.objects.create("Schedule", "bad-cron", { schedule: "61 * * * *", template: {} });
    await arca.objects.create("Restore", "from-nothing", { backupName: "no-such-backup" });
    const reasons = async (kind: "Backup" | "Schedule" | "Restore", name: string) =>
      eventually(`${kind} ${name} to fail validation`, async () => {
        const o = await arca.objects.get(kind, name);
        return o?.status?.phase === "FailedValidation"
          ? (o.status.validationErrors ?? []).join("\n")
          : undefined;
      });
    assert.match(await reasons("Backup", "two-selectors"), /cannot be used together/);
    assert.match(await reasons("Backup", "nowhere"), /BackupLocation no-such-location does not exist/);
    assert.match(await reasons("Schedule", "bad-cron"), /invalid schedule "61 \* \* \* \*"/);
    assert.match(await reasons("Restore", "from-nothing"), /Backup no-such-backup does not exist/);
    await assert.rejects(
      arca.objects.create("BackupLocation", "ftp", { url: "ftp://somewhere", password: { name: "x" } }),
      /spec.url/,
    );
  });

  it("keeps the data when a Backup object is deleted by hand, and sync brings the object back", async () => {
    await arca.objects.delete("Backup", "first");
    const back = await eventually("sync to bring Backup first back", async () => {
      const b = await arca.objects.get("Backup", "first");
      return b?.status?.phase === "Completed" ? b : undefined;
    });
    assert.equal((await snapshotsOf("first")).length, 1, "the snapshot was never touched");
    assert.ok(back.metadata.annotations?.["arca.dev/synced-from"]);
  });

  it("fires a schedule, skips nothing while idle, and retention deletes what keepLast no longer keeps", async () => {
    await arca.objects.create("Schedule", "often", {
      schedule: "@every 2s",
      template: { includedNamespaces: [app] },
      retention: { keepLast: 2 },
    });
    const made = await eventually(
      "four backups from the schedule",
      async () => {
        const all = (await arca.objects.list("Backup", "arca.dev/schedule=often")).map(
          (b) => b.metadata.name,
        );
        const created = (await arca.objects.list("DeleteBackupRequest")).filter((r) =>
          r.spec.backupName.startsWith("often-"),
        );
        return all.length + created.length >= 4 ? all : undefined;
      },
      90_000,
    );
    await arca.objects.patch("Schedule", "often", { spec: { paused: true } });
    assert.ok(made.length >= 1);
    await eventually(
      "retention to leave at most 2 completed backups and their snapshots",
      async () => {
        const done = (await arca.objects.list("Backup", "arca.dev/schedule=often")).filter(
          (b) => b.status?.phase === "Completed",
        );
        const stored = (await resticSnapshots(arca.restic)).filter((s) =>
          s.tags?.some((t) => t.startsWith("backup=often-")),
        );
        const busy = (await arca.objects.list("Backup", "arca.dev/schedule=often")).some((b) =>
          ["New", "InProgress", "Deleting"].includes(b.status?.phase ?? "New"),
        );
        return !busy && done.length <= 2 && stored.length === done.length ? true : undefined;
      },
      90_000,
    );
    const schedule = await arca.objects.get("Schedule", "often");
    assert.equal(schedule?.status?.phase, "Enabled");
    assert.ok(schedule?.status?.lastSuccessfulBackup);
  });

  it("deletes the data of a backup whose TTL has passed", async () => {
    await arca.objects.create("Backup", "short-lived", { includedNamespaces: [app], ttl: "3s" });
    assert.equal((await finished("Backup", "short-lived")).status?.phase, "Completed");
    assert.equal((await snapshotsOf("short-lived")).length, 1);
    await eventually("garbage collection to delete the expired backup", async () =>
      (await arca.objects.get("Backup", "short-lived")) === undefined ? true : undefined,
    );
    assert.equal((await snapshotsOf("short-lived")).length, 0, "its snapshot is forgotten");
  });

  it("counts what it did on /metrics", async () => {
    const text = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
    assert.match(text, /^arca_backups_total\{phase="Completed",schedule=""\} [1-9]/m);
    assert.match(text, /^arca_backups_total\{phase="FailedValidation",schedule=""\} [1-9]/m);
    assert.match(text, /^arca_restores_total\{phase="Completed"\} 1/m);
    assert.match(text, /^arca_schedule_last_success_timestamp_seconds\{schedule="often"\} \d/m);
    assert.match(text, /^arca_location_available\{location="default"\} 1/m);
    assert.equal((await fetch(`${controller.metricsUrl}/readyz`)).status, 200);
  });

  it("turns the location Unavailable when its password Secret holds a wrong password, naming the Secret", async () => {
    const core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({
      name: "arca-repository-password",
      namespace: arca.namespace,
    });
    secret.data = { password: Buffer.from("not the password").toString("base64") };
    const changed = Date.now();
    await core.replaceNamespacedSecret({
      name: "arca-repository-password",
      namespace: arca.namespace,
      body: secret,
    });
    // Judged by a check that began after the change: an earlier failure says something else.
    const message = await eventually("the location to turn Unavailable", async () => {
      const l = await arca.objects.get("BackupLocation", "default");
      const checkedAt = Date.parse(l?.status?.lastValidationTime ?? "");
      return l?.status?.phase === "Unavailable" && checkedAt >= changed
        ? (l.status.message ?? "")
        : undefined;
    });
    assert.match(message, /wrong password/);
    assert.match(message, new RegExp(`Secret ${arca.namespace}/arca-repository-password \\(key password\\)`));
  });
});
