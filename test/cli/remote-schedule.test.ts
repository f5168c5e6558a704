// arca location and arca schedule, against the real test cluster: BackupLocation and Schedule
// objects for the in-cluster component. No controller runs here: the test writes the status the
// controller would, through the status subresource.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ObjectOf } from "../../src/api/objects.js";
import { failed, remoteNamespace, type RemoteNamespace } from "./remote-setup.js";

const URL = "file:///var/lib/arca/backups";

describe("arca location and schedule", () => {
  let remote: RemoteNamespace;
  const arca = (...args: string[]) => remote.arca(...args);
  let objects: RemoteNamespace["objects"];
  const scratch = mkdtempSync(join(tmpdir(), "arca-cli-schedule-"));

  before(async () => {
    remote = await remoteNamespace("cli-schedule");
    ({ objects } = remote);
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await remote?.stop();
  });

  it("creates, lists and checks BackupLocations, and still probes a location URL from here", async () => {
    const created = await arca(
      "location",
      "create",
      "primary",
      "--url",
      URL,
      "--default",
      "--validation-frequency",
      "30s",
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /warning: there is no Secret arca-repository-password in namespace/);
    const location = await objects.get("BackupLocation", "primary");
    assert.deepEqual(location?.spec, {
      url: URL,
      default: true,
      password: { name: "arca-repository-password", key: "password" },
      validationFrequency: "30s",
    });
    failed(
      await arca("location", "create", "primary", "--url", URL),
      /a BackupLocation named primary already exists/,
    );
    failed(
      await arca("location", "create", "second", "--url", URL, "--default"),
      /BackupLocation primary is already the default/,
    );
    failed(await arca("location", "create", "bad", "--url", "ftp://host/x"), /ftp/);
    assert.equal(await objects.get("BackupLocation", "bad"), undefined);

    const unchecked = await arca("location", "check", "primary");
    assert.equal(unchecked.code, 0, unchecked.stderr);
    assert.match(unchecked.stdout, /has not checked the location yet/);
    await objects.setStatus("BackupLocation", "primary", {
      phase: "Unavailable",
      message: "the repository password is wrong",
      lastValidationTime: new Date().toISOString(),
    });
    const unavailable = await arca("location", "check", "primary");
    assert.equal(unavailable.code, 1);
    assert.match(unavailable.stdout, /^Phase:\s+Unavailable$/m);
    assert.match(unavailable.stdout, /^Message:\s+the repository password is wrong$/m);
    await objects.setStatus("BackupLocation", "primary", { phase: "Available", message: "ready" });
    assert.equal((await arca("location", "check", "primary")).code, 0);

    const table = await arca("location", "get");
    assert.match(table.stdout, /^NAME\s+PHASE\s+URL\s+DEFAULT\s+LAST-VALIDATED\s+MESSAGE$/m);
    assert.match(
      table.stdout,
      /^primary\s+Available\s+file:\/\/\/var\/lib\/arca\/backups\s+true\s+\d+s ago\s+ready$/m,
    );
    const json = JSON.parse((await arca("location", "get", "-o", "json")).stdout) as {
      kind: string;
      items: unknown[];
    };
    assert.equal(json.kind, "List");
    assert.equal(json.items.length, 1);

    const probe = await arca("location", "check", "--location", `file://${scratch}`);
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /The location is ready\./);
  });

  it("creates, pauses, unpauses, lists and deletes Schedules; their backups stay", async () => {
    failed(
      await arca("schedule", "create", "bad", "--schedule", "61 * * * *"),
      /invalid schedule "61 \* \* \* \*"/,
    );
    failed(
      await arca("schedule", "create", "bad", "--schedule", "@daily", "--timezone", "Mars/Base"),
      /unknown time zone/,
    );
    failed(
      await arca("schedule", "create", "bad", "--schedule", "@daily", "--keep-last", "-1"),
      /whole number/,
    );
    assert.equal(await objects.get("Schedule", "bad"), undefined);

    const created = await arca(
      "schedule",
      "create",
      "daily",
      "--schedule",
      "0 2 * * *",
      "--timezone",
      "Asia/Shanghai",
      "--include-namespaces",
      "shop",
      "--ttl",
      "720h",
      "--location",
      "primary",
      "--keep-last",
      "3",
      "--keep-daily",
      "7",
      "--skip-immediately",
    );
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual((await objects.get("Schedule", "daily"))?.spec, {
      schedule: "0 2 * * *",
      timezone: "Asia/Shanghai",
      template: {
        includedNamespaces: ["shop"],
        includedResources: ["*"],
        ttl: "720h",
        storageLocation: "primary",
      },
      skipImmediately: true,
      retention: { keepLast: 3, keepDaily: 7 },
    });

    assert.equal((await arca("schedule", "pause", "daily")).code, 0);
    assert.equal((await objects.get("Schedule", "daily"))?.spec.paused, true);
    const table = await arca("schedule", "get");
    assert.match(
      table.stdout,
      /^NAME\s+STATUS\s+SCHEDULE\s+PAUSED\s+LAST-BACKUP\s+NEXT-RUN\s+TTL\s+LOCATION$/m,
    );
    assert.match(
      table.stdout,
      /^daily\s+New\s+0 2 \* \* \* \(Asia\/Shanghai\)\s+true\s+<never>\s+<paused>\s+720h\s+primary$/m,
    );
    assert.equal((await arca("schedule", "unpause", "daily")).code, 0);
    assert.equal((await objects.get("Schedule", "daily"))?.spec.paused, false);
    const json = JSON.parse(
      (await arca("schedule", "get", "daily", "-o", "json")).stdout,
    ) as ObjectOf<"Schedule">;
    assert.equal(json.spec.paused, false);

    // A backup the controller made from it.
    await objects.create(
      "Backup",
      "daily-20261124020000",
      { includedNamespaces: ["shop"] },
      { "arca.dev/schedule": "daily" },
    );
    const described = await arca("schedule", "describe", "daily");
    assert.match(described.stdout, /^Retention:\s+keep last 3, daily 7$/m);
    assert.match(described.stdout, /^Backups \(1\):$/m);
    assert.match(described.stdout, /^ {2}daily-20261124020000\s+New/m);

    const deleted = await arca("schedule", "delete", "daily");
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /the 1 backups it made are kept/);
    assert.equal(await objects.get("Schedule", "daily"), undefined);
    assert.ok(await objects.get("Backup", "daily-20261124020000"));
    failed(await arca("schedule", "delete", "daily"), /there is no Schedule named daily/);
  });

  it("deletes a BackupLocation and says the data stays", async () => {
    const deleted = await arca("location", "delete", "primary");
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /the data at file:\/\/\/var\/lib\/arca\/backups stays/);
    assert.equal(await objects.get("BackupLocation", "primary"), undefined);
  });
});
