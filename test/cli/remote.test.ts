// arca backup|restore without --local, against the real test cluster: the CLI writes Backup,
// Restore and DeleteBackupRequest objects for the in-cluster component and reads their status.
//
// No controller runs here. The test plays the controller's part: it writes status through the
// status subresource (and the logs ConfigMap, with saveLogs) as the controller does, and checks
// what the CLI makes of it.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { saveLogs } from "../../src/api/logs.js";
import type { ObjectOf } from "../../src/api/objects.js";
import { eventually } from "../support/wait.js";
import { runArca } from "./run.js";
import { failed, remoteNamespace, type RemoteNamespace } from "./remote-setup.js";

const URL = "file:///var/lib/arca/backups";

describe("arca backup and restore without --local", () => {
  let remote: RemoteNamespace;
  const arca = (...args: string[]) => remote.arca(...args);
  let objects: RemoteNamespace["objects"];
  let ns: string;

  before(async () => {
    remote = await remoteNamespace("cli-remote");
    ({ objects, ns } = remote);
  });
  after(async () => {
    await remote?.stop();
  });

  it("says Arca is not installed in a namespace that does not exist, and that backups need a location", async () => {
    failed(
      await runArca(["-n", `${ns}-missing`, "backup", "create", "x"], remote.cliEnv),
      /Arca is not installed in namespace cli-remote-\w+-missing: there is no such namespace\n {2}hint: run `arca install` or use --local/,
    );
    failed(await arca("backup", "create", "x"), /there is no BackupLocation in namespace cli-remote-\w+/);
    assert.deepEqual(await objects.list("Backup"), []);
  });

  it("creates a Backup whose spec is the flags, and refuses conflicting filters before creating anything", async () => {
    // The default location `arca install` makes.
    await objects.create("BackupLocation", "primary", {
      url: URL,
      default: true,
      password: { name: "arca-repository-password", key: "password" },
    });
    const created = await arca(
      "backup",
      "create",
      "nightly",
      "--include-namespaces",
      "shop,db",
      "--exclude-resources",
      "secrets",
      "-l",
      "app=web",
      "--include-cluster-resources",
      "false",
      "--ttl",
      "48h",
      "--location",
      "primary",
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /backup nightly created in namespace/);
    assert.deepEqual((await objects.get("Backup", "nightly"))?.spec, {
      includedNamespaces: ["shop", "db"],
      includedResources: ["*"],
      excludedResources: ["secrets"],
      labelSelector: "app=web",
      includeClusterResources: false,
      ttl: "48h",
      storageLocation: "primary",
    });
    failed(await arca("backup", "create", "nightly"), /a Backup named nightly already exists in namespace/);

    failed(
      await arca("backup", "create", "conflict", "--selector", "a=b", "--or-selector", "c=d"),
      /cannot be used together \(--selector and --or-selector/,
    );
    failed(await arca("backup", "create", "conflict", "--selector", "a in (b"), /selector/);
    failed(
      await arca("backup", "create", "conflict", "--location", "elsewhere"),
      /there is no BackupLocation named elsewhere/,
    );
    failed(
      await arca("backup", "create", "conflict", "--location", URL),
      /without --local, --location names a BackupLocation/,
    );
    assert.equal(await objects.get("Backup", "conflict"), undefined);
  });

  it("lists Backups as a table and as JSON", async () => {
    await objects.setStatus("Backup", "nightly", {
      phase: "Completed",
      progress: { itemsBackedUp: 12 },
      warnings: 1,
      errors: 0,
      expiration: new Date(Date.now() + 48 * 3600_000 + 60_000).toISOString(),
    });
    const table = await arca("backup", "get");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+STATUS\s+ITEMS\s+ERRORS\s+WARNINGS\s+CREATED\s+EXPIRES\s+LOCATION$/m);
    assert.match(table.stdout, /^nightly\s+Completed\s+12\s+0\s+1\s+\d{4}-\d\d-\d\dT\S+\s+2d\s+primary$/m);
    const list = JSON.parse((await arca("backup", "get", "-o", "json")).stdout) as {
      kind: string;
      items: ObjectOf<"Backup">[];
    };
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((b) => [b.metadata.name, b.status?.phase]),
      [["nightly", "Completed"]],
    );
    const one = JSON.parse(
      (await arca("backup", "get", "nightly", "-o", "json")).stdout,
    ) as ObjectOf<"Backup">;
    assert.equal(one.kind, "Backup");
    assert.equal((one.metadata as { managedFields?: unknown }).managedFields, undefined);
    failed(await arca("backup", "get", "nope"), /there is no Backup named nope/);
  });

  it("--wait follows the status: exit 0 Completed, 3 PartiallyFailed, 1 Failed with the reason", async () => {
    const follow = async (name: string, ...end: ObjectOf<"Backup">["status"][]) => {
      const run = arca("backup", "create", name, "--wait");
      await remote.appeared("Backup", name);
      await objects.setStatus("Backup", name, { phase: "InProgress", progress: { itemsBackedUp: 5 } });
      await sleep(800);
      for (const status of end) await objects.setStatus("Backup", name, status);
      return run;
    };
    const ok = await follow("wait-ok", { phase: "Completed", progress: { itemsBackedUp: 9 } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /^backup wait-ok: InProgress, 5 items$/m);
    assert.match(ok.stdout, /^backup wait-ok: Completed, 9 items$/m);

    const partial = await follow("wait-partial", { phase: "PartiallyFailed", errors: 2 });
    assert.equal(partial.code, 3, partial.stderr);
    assert.match(partial.stdout, /PartiallyFailed, 5 items, 2 errors/);

    const fail = await follow("wait-fail", { phase: "Failed", failureReason: "the location is full" });
    failed(fail, /backup wait-fail failed: the location is full/);

    const invalid = await follow("wait-invalid", {
      phase: "FailedValidation",
      validationErrors: ["no BackupLocation is marked default"],
    });
    failed(invalid, /backup wait-invalid failed validation: no BackupLocation is marked default/);
  });

  it("reads logs and results from the ConfigMap the controller keeps, and says why there is none", async () => {
    const running = await arca("backup", "create", "running");
    assert.equal(running.code, 0, running.stderr);
    await objects.setStatus("Backup", "running", { phase: "InProgress" });
    failed(await arca("backup", "logs", "running"), /the backup is still running \(phase InProgress\)/);
    // Completed, but the log was not kept in the cluster: it is in the location.
    failed(
      await arca("backup", "logs", "wait-ok"),
      /only in the location\n {2}hint: read it from there: `arca backup logs wait-ok --local --location file:\/\/\/var\/lib\/arca\/backups`/,
    );

    const nightly = await objects.get("Backup", "nightly");
    assert.ok(nightly);
    const log = '{"level":30,"msg":"backup finished","phase":"Completed"}\n';
    await saveLogs(remote.client, ns, "backup", nightly, {
      log: Buffer.from(log),
      results: Buffer.from(
        JSON.stringify({
          warnings: [
            { resource: "configmaps", namespace: "shop", name: "big", message: "larger than 1 MiB" },
          ],
          errors: [],
          skipped: [{ resource: "events", reason: "events are a record of the past" }],
          related: [],
        }),
      ),
    });
    const logs = await arca("backup", "logs", "nightly");
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, log);
    const described = await arca("backup", "describe", "nightly");
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Phase:\s+Completed$/m);
    assert.match(described.stdout, /^Location:\s+primary$/m);
    assert.match(described.stdout, /^ {2}Included:\s+shop, db$/m);
    assert.match(described.stdout, /^Warnings \(1\):\n {2}configmaps\/shop\/big: larger than 1 MiB$/m);
    assert.match(described.stdout, /^ {2}events: events are a record of the past$/m);
    const asJson = JSON.parse((await arca("backup", "describe", "nightly", "-o", "json")).stdout) as {
      results: { warnings: unknown[] };
    };
    assert.equal(asJson.results.warnings.length, 1);
    const pending = await arca("backup", "describe", "running");
    assert.match(pending.stdout, /^Results:\s+the backup is still running/m);
  });

  it("deletes data through a DeleteBackupRequest, only when confirmed", async () => {
    failed(await arca("backup", "delete", "nightly"), /pass --confirm/);
    failed(await arca("backup", "delete", "nope", "--confirm"), /there is no Backup named nope/);
    const deleted = await arca("backup", "delete", "nightly", "--confirm");
    assert.equal(deleted.code, 0, deleted.stderr);
    const requests = await objects.list("DeleteBackupRequest", "arca.dev/backup=nightly");
    assert.equal(requests.length, 1);
    assert.match(requests[0]?.metadata.name ?? "", /^nightly-[a-z0-9]{5}$/);
    assert.deepEqual(requests[0]?.spec, { backupName: "nightly" });
    // The controller removes the Backup once the data is gone; the CLI never deletes it.
    assert.ok(await objects.get("Backup", "nightly"));
  });

  it("creates Restores, dry runs included, after checking the backup", async () => {
    failed(
      await arca("restore", "create", "--from-backup", "nope"),
      /there is no Backup named nope in namespace \S+ to restore from/,
    );
    failed(
      await arca("restore", "create", "--from-backup", "running"),
      /backup running has not finished yet/,
    );
    failed(
      await arca("restore", "create", "--from-backup", "wait-fail"),
      /backup wait-fail cannot be restored: its phase is Failed/,
    );
    failed(
      await arca("restore", "create", "--from-backup", "nightly", "--resource-modifiers", "x.yaml"),
      /--resource-modifiers works only with --local/,
    );
    assert.deepEqual(await objects.list("Restore"), []);

    const created = await arca(
      "restore",
      "create",
      "back",
      "--from-backup",
      "nightly",
      "--namespace-mappings",
      "shop:shop-copy",
      "--include-resources",
      "configmaps",
      "--existing-resource-policy",
      "update",
    );
    assert.equal(created.code, 0, created.stderr);
    const back = await objects.get("Restore", "back");
    assert.deepEqual(back?.spec, {
      backupName: "nightly",
      includedNamespaces: ["*"],
      includedResources: ["configmaps"],
      namespaceMapping: { shop: "shop-copy" },
      existingResourcePolicy: "update",
    });
    assert.equal(back?.metadata.labels?.["arca.dev/backup"], "nightly");

    const dry = arca("restore", "create", "--from-backup", "nightly", "--dry-run", "--wait");
    const restore = await eventually("the dry run's Restore", async () =>
      (await objects.list("Restore")).find((r) => r.spec.dryRun),
    );
    assert.match(restore.metadata.name, /^nightly-\d{14}$/);
    await saveLogs(remote.client, ns, "restore", restore, {
      log: Buffer.from("{}\n"),
      results: Buffer.from(
        JSON.stringify({
          items: [{ resource: "configmaps", namespace: "shop", name: "settings", outcome: "create" }],
          warnings: [],
        }),
      ),
    });
    await objects.setStatus("Restore", restore.metadata.name, {
      phase: "Completed",
      progress: { itemsRestored: 1 },
    });
    const done = await dry;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^CREATE\s+configmaps\s+shop\s+settings$/m);
    assert.match(done.stdout, /^restore nightly-\d{14}: Completed \(1 create\)$/m);

    const table = await arca("restore", "get");
    assert.match(table.stdout, /^NAME\s+BACKUP\s+STATUS\s+ITEMS\s+ERRORS\s+WARNINGS\s+DRY-RUN\s+CREATED$/m);
    assert.match(table.stdout, /^back\s+nightly\s+New\s+0\s+0\s+0\s+no\s+\S+$/m);
    const described = await arca("restore", "describe", restore.metadata.name);
    assert.match(described.stdout, /^Phase:\s+Completed \(dry run\)$/m);
    assert.match(described.stdout, /^CREATE\s+configmaps\s+shop\s+settings$/m);
    assert.equal((await arca("restore", "logs", restore.metadata.name)).stdout, "{}\n");
  });
});
