// The controller when things go wrong: killed mid-backup, replaced by a standby, and cut off
// from its object store. The store sits behind a loopback fault proxy (test/support) so that
// it can be slowed and taken away; the S3 server behind it is real.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import {
  installArca,
  leads,
  namespaceWithConfigMaps,
  startController,
  type ControllerProcess,
  type Installed,
} from "../support/controller.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { resticSnapshots } from "../support/restic.js";
import { eventually, uniqueName } from "../support/wait.js";

describe("the controller under failure", () => {
  let env: TestEnvironment;
  let proxy: FaultProxy;
  let arca: Installed;
  const running: ControllerProcess[] = [];
  const app = uniqueName("ctl-faults");

  const start = async () => {
    const c = await startController(arca);
    running.push(c);
    return c;
  };
  const phase = async (name: string) => (await arca.objects.get("Backup", name))?.status;
  const settled = (name: string, timeoutMs = 60_000) =>
    eventually(
      `Backup ${name} to finish`,
      async () => {
        const s = await phase(name);
        return s?.phase && !["New", "InProgress"].includes(s.phase) ? s : undefined;
      },
      timeoutMs,
    );
  const available = (want: "Available" | "Unavailable") =>
    eventually(`the location to be ${want}`, async () => {
      const l = await arca.objects.get("BackupLocation", "default");
      return l?.status?.phase === want ? l.status : undefined;
    });

  before(async () => {
    env = await testEnvironment();
    proxy = await startFaultProxy(env.s3.endpoint);
    arca = await installArca(env, { endpoint: proxy.url });
    await createObjects(env.cluster.kubeConfig(), namespaceWithConfigMaps(app, 20));
  });

  after(async () => {
    for (const c of running) await c.kill();
    await proxy?.stop();
    await env?.stop(); // a private environment when the file runs alone; shared under npm test
  });

  it("marks a backup Failed after a SIGKILL mid-backup, leaves no snapshot, and the next backup completes", async () => {
    const first = await start();
    await available("Available");
    // Every store request now takes a while, so the backup is still running when the kill comes.
    proxy.delay(700);
    await arca.objects.create("Backup", "interrupted", { includedNamespaces: [app] });
    await eventually("the backup to start", async () => (await phase("interrupted"))?.phase === "InProgress");
    await first.kill();
    proxy.delay(0);
    assert.equal(
      (await resticSnapshots(arca.restic)).filter((s) => s.tags?.includes("backup=interrupted")).length,
      0,
      "a killed backup leaves no snapshot",
    );
    await start();
    const status = await settled("interrupted");
    assert.equal(status.phase, "Failed");
    assert.match(status.failureReason ?? "", /controller restarted/);
    await arca.objects.create("Backup", "after-the-crash", { includedNamespaces: [app] });
    assert.equal((await settled("after-the-crash")).phase, "Completed");
  });

  it("lets only the leader work, and hands over when the leader dies", async () => {
    const leader = running.at(-1) as ControllerProcess;
    await eventually("the restarted controller to lead", () => leads(leader));
    const standby = await start();
    assert.equal(await leads(standby), false, "a second instance stands by");
    assert.equal((await fetch(`${standby.metricsUrl}/readyz`)).status, 200, "a standby is ready");
    await leader.kill();
    await eventually("the standby to take the lease", () => leads(standby), 30_000);
    await arca.objects.create("Backup", "after-handover", { includedNamespaces: [app] });
    assert.equal((await settled("after-handover")).phase, "Completed");
    assert.match(standby.log(), /leading: the controller works/);
  });

  it("turns the location Unavailable when the store goes, fails backups fast with that reason, and recovers", async () => {
    proxy.outage(true);
    const down = await available("Unavailable");
    assert.match(down.message ?? "", /127\.0\.0\.1/);
    const started = Date.now();
    await arca.objects.create("Backup", "during-outage", { includedNamespaces: [app] });
    const failed = await settled("during-outage");
    assert.equal(failed.phase, "Failed");
    assert.match(failed.failureReason ?? "", /BackupLocation default is unavailable/);
    assert.ok(Date.now() - started < 15_000, "it fails fast rather than retrying against a dead store");
    proxy.outage(false);
    await available("Available");
    await arca.objects.create("Backup", "after-outage", { includedNamespaces: [app] });
    assert.equal((await settled("after-outage")).phase, "Completed");
  });
});
