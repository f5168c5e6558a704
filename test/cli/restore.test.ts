// `arca restore create|get|describe --local` as an operator runs them, after a disaster: the
// namespace is gone, and comes back from a backup in a file:// location.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { forConfigMap, forNamespace, forSecret } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";
import { runArca } from "./run.js";

describe("arca restore --local", () => {
  let env: TestEnvironment;
  let core: CoreV1Api;
  let cliEnv: NodeJS.ProcessEnv;
  const ns = uniqueName("cli-restore");
  const scratch = mkdtempSync(join(tmpdir(), "arca-cli-restore-"));
  const arca = (...args: string[]) => runArca(args, cliEnv);

  before(async () => {
    env = await testEnvironment();
    core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    mkdirSync(join(scratch, "repo"));
    writeFileSync(join(scratch, "password"), "restore password\n");
    cliEnv = {
      ...process.env,
      KUBECONFIG: env.cluster.kubeconfigPath,
      ARCA_PASSWORD: "",
      ARCA_PASSWORD_FILE: join(scratch, "password"),
      ARCA_LOCATION: `file://${join(scratch, "repo")}`,
    };
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(ns).result(),
      forConfigMap(ns, "settings").data({ mode: "fast" }).result(),
      forSecret(ns, "password").stringData({ p: "s3cret" }).result(),
    ]);
    const backup = await arca("backup", "create", "before-disaster", "--local", "--include-namespaces", ns);
    assert.equal(backup.code, 0, backup.stderr);
    await core.deleteNamespace({ name: ns });
    await eventually(`namespace ${ns} gone`, () =>
      core.readNamespace({ name: ns }).then(
        () => false,
        (err: unknown) => statusOf(err) === 404,
      ),
    );
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await env?.stop();
  });

  it("dry-run lists what would be created, as a table and as JSON, and creates nothing", async () => {
    const table = await arca("restore", "create", "--from-backup", "before-disaster", "--local", "--dry-run");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ACTION\s+RESOURCE\s+NAMESPACE\s+NAME\s+REASON$/m);
    assert.match(table.stdout, new RegExp(`^CREATE\\s+configmaps\\s+${ns}\\s+settings`, "m"));
    assert.match(table.stdout, /\(dry run\): Completed; would create 4/);
    const json = JSON.parse(
      (
        await arca(
          "restore",
          "create",
          "--from-backup",
          "before-disaster",
          "--local",
          "--dry-run",
          "-o",
          "json",
        )
      ).stdout,
    ) as { results: { items: Array<{ outcome: string; resource: string; name: string }> } };
    assert.deepEqual(
      json.results.items.filter((i) => i.resource === "secrets").map((i) => [i.name, i.outcome]),
      [["password", "create"]],
    );
    await assert.rejects(core.readNamespace({ name: ns }));
  });

  it("restores the namespace, and describes every item's result", async () => {
    const restored = await arca(
      "restore",
      "create",
      "after-disaster",
      "--from-backup",
      "before-disaster",
      "--local",
    );
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      // The default ServiceAccount is created, or found already made by the controller manager.
      /^restore after-disaster: Completed; created [34], updated 0, skipped [12], failed 0 of 5$/m,
    );
    const cm = await core.readNamespacedConfigMap({ name: "settings", namespace: ns });
    assert.deepEqual(cm.data, { mode: "fast" });
    assert.equal(cm.metadata?.labels?.["arca.dev/restore"], "after-disaster");

    const described = await arca("restore", "describe", "after-disaster");
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Phase:\s+Completed$/m);
    assert.match(described.stdout, new RegExp(`^CREATED\\s+secrets\\s+${ns}\\s+password`, "m"));
    assert.match(
      described.stdout,
      /^SKIPPED\s+configmaps\s+\S+\s+kube-root-ca.crt\s+the controller manager publishes/m,
    );
    const listed = await arca("restore", "get");
    assert.match(listed.stdout, /^after-disaster\s+before-disaster\s+Completed\s+[34]\s+0\s+[12]\s+0/m);
  });

  it("gives clear errors for a reused name, a missing backup and a malformed mapping", async () => {
    const reused = await arca(
      "restore",
      "create",
      "after-disaster",
      "--from-backup",
      "before-disaster",
      "--local",
    );
    assert.equal(reused.code, 1);
    assert.match(reused.stderr, /a restore named after-disaster already exists/);
    const missing = await arca("restore", "create", "--from-backup", "nope", "--local");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no backup named nope in file:\/\//);
    assert.match(missing.stderr, /hint: list them with `arca backup get`/);
    const mapping = await arca(
      "restore",
      "create",
      "--from-backup",
      "before-disaster",
      "--local",
      "--namespace-mappings",
      "a-b",
    );
    assert.equal(mapping.code, 1);
    assert.match(mapping.stderr, /--namespace-mappings: "a-b" is not source:target/);
  });
});
