// A fresh install into an empty location, tried as a new user would: `arca install`, `arca
// server`, then at once a backup. The location's validation and the backup both find no
// repository and both make one; the one that loses opens what the other made, and the backup
// completes. Into an empty directory and an empty S3 prefix. Then what the controller says about
// a location never holds a key from its URL, and its password Secret means what a password file
// means to restic.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { runArca } from "../cli/run.js";
import { createObjects } from "../support/backup.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import {
  installArca,
  PASSWORD,
  startController,
  type ControllerProcess,
  type Installed,
} from "../support/controller.js";
import { resticSnapshots } from "../support/restic.js";
import { eventually, uniqueName } from "../support/wait.js";

describe("a fresh install into an empty location", () => {
  let env: TestEnvironment;
  const app = uniqueName("fresh-app");
  const running: ControllerProcess[] = [];
  const directories: string[] = [];
  const emptyDirectory = () => {
    directories.push(mkdtempSync(join(tmpdir(), "arca-fresh-")));
    return directories.at(-1)!;
  };

  before(async () => {
    env = await testEnvironment();
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(app).result(),
      forConfigMap(app, "settings").data({ mode: "fast" }).result(),
    ]);
  });
  after(async () => {
    for (const c of running) await c.stop();
    for (const d of directories) rmSync(d, { recursive: true, force: true });
    await env?.stop();
  });

  /** Both must succeed: the backup, and the location's first check (no Unavailable on the way). */
  const neverUnavailable = async (arca: Installed) => {
    await eventually("the location to be Available", async () => {
      const l = await arca.objects.get("BackupLocation", "default");
      return l?.status?.phase === "Available";
    });
    const events = await env.cluster
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: arca.namespace });
    assert.deepEqual(
      events.items
        .filter((e) => e.involvedObject.kind === "BackupLocation" && e.type === "Warning")
        .map((e) => e.message),
      [],
    );
  };

  const backupPhase = (arca: Installed, name: string) =>
    eventually(
      `Backup ${name} to finish`,
      async () => {
        const phase = (await arca.objects.get("Backup", name))?.status?.phase;
        return phase && !["New", "InProgress"].includes(phase) ? phase : undefined;
      },
      90_000,
    );

  it("an empty directory: `arca backup create --wait` right after `arca server` completes", async () => {
    const arca = await installArca(env, { directory: emptyDirectory() });
    running.push(await startController(arca));
    // At once, as the user did: the location has not been validated yet.
    const created = await runArca(
      ["-n", arca.namespace, "backup", "create", "first", "--include-namespaces", app, "--wait"],
      { ...process.env, KUBECONFIG: env.cluster.kubeconfigPath },
    );
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.equal(await backupPhase(arca, "first"), "Completed");

    assert.equal(readdirSync(join(arca.restic.repo, "keys")).length, 1, "one repository, one key");
    const snapshots = await resticSnapshots(arca.restic);
    assert.equal(snapshots.length, 1);
    await neverUnavailable(arca);
  });

  it("an empty S3 prefix: a Backup made before the controller starts completes", async () => {
    // The repository's config lands 4 s after it is written: the location's first check and the
    // backup, started together, both find no repository, and both make one.
    const proxy = await startFaultProxy(env.s3.endpoint);
    try {
      proxy.hold(4000, (method, path) => method === "PUT" && path.endsWith("/config"));
      const arca = await installArca(env, { endpoint: proxy.url });
      await arca.objects.create("Backup", "first", { includedNamespaces: [app] });
      running.push(await startController(arca));
      assert.equal(await backupPhase(arca, "first"), "Completed");
      const snapshots = await resticSnapshots(arca.restic);
      assert.equal(snapshots.length, 1);
      await neverUnavailable(arca);
    } finally {
      await running.pop()?.stop();
      await proxy.stop();
    }
  });

  describe("what the controller says about a location", () => {
    let arca: Installed;
    const core = () => env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    const unavailable = (name: string) =>
      eventually(`BackupLocation ${name} to be Unavailable`, async () => {
        const l = await arca.objects.get("BackupLocation", name);
        return l?.status?.phase === "Unavailable" ? (l.status.message ?? "") : undefined;
      });

    before(async () => {
      arca = await installArca(env, { directory: emptyDirectory() });
      running.push(await startController(arca));
    });

    it("never holds a key from its URL", async () => {
      const key = "AKIAIOSFODNN7EXAMPLE";
      const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY";
      // The schema keeps keys out of the URL's userinfo altogether.
      await assert.rejects(
        arca.objects.create("BackupLocation", "with-userinfo", {
          url: `s3://${key}:${secret}@bucket/p`,
          password: { name: "arca-repository-password" },
        }),
        /spec.url/,
      );
      // A key passed as a parameter gets as far as the controller, which refuses it unechoed.
      await arca.objects.create("BackupLocation", "with-parameter", {
        url: `s3://bucket/p?region=us-east-1&accessKey=${key}&secretKey=${secret}`,
        password: { name: "arca-repository-password" },
      });
      const message = await unavailable("with-parameter");
      assert.match(message, /unknown parameter accessKey/);
      assert.ok(message.includes("accessKey=***&secretKey=***"), message);
      const events = await core().listNamespacedEvent({ namespace: arca.namespace });
      const said = [message, ...events.items.map((e) => e.message ?? "")].join("\n");
      assert.ok(!said.includes(key) && !said.includes(secret.slice(0, 10)), said);
    });

    it("reads its password Secret as restic reads a password file", async () => {
      const setPassword = async (text: string) => {
        const secret = await core().readNamespacedSecret({
          name: "arca-repository-password",
          namespace: arca.namespace,
        });
        secret.data = { password: Buffer.from(text).toString("base64") };
        await core().replaceNamespacedSecret({
          name: "arca-repository-password",
          namespace: arca.namespace,
          body: secret,
        });
      };
      // Surrounding white space is not part of the password: the repository still opens.
      await setPassword(`  ${PASSWORD} \r\n`);
      await arca.objects.create("Backup", "spaced", { includedNamespaces: [app] });
      assert.equal(await backupPhase(arca, "spaced"), "Completed");

      // An empty one is named as such.
      await setPassword(" \n");
      await arca.objects.create("BackupLocation", "blank", {
        url: `file://${arca.restic.repo}`,
        password: { name: "arca-repository-password" },
      });
      assert.match(
        await unavailable("blank"),
        new RegExp(
          `the password in Secret ${arca.namespace}/arca-repository-password \\(key password\\) is empty`,
        ),
      );
    });
  });
});
