// `arca backup create|get|describe|logs|download|delete --local` as an operator runs them,
// into the real S3 server, with the real restic reading back what was written.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.js";
import { forConfigMap, forNamespace, forSecret } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import { restic, resticSnapshots, type ResticRepo } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";
import { runArca } from "./run.js";

describe("arca backup --local", () => {
  let env: TestEnvironment;
  let cliEnv: NodeJS.ProcessEnv;
  let location: string;
  let oracle: ResticRepo;
  const ns = uniqueName("cli");
  const scratch = mkdtempSync(join(tmpdir(), "arca-cli-backup-"));
  const arca = (...args: string[]) => runArca(args, cliEnv);

  before(async () => {
    env = await testEnvironment();
    const bucket = await env.s3.createBucket();
    const prefix = uniqueName("backups");
    location = `s3://${bucket}/${prefix}?region=${env.s3.region}&endpoint=${env.s3.endpoint}&forcePathStyle=true`;
    const passwordFile = join(scratch, "password");
    writeFileSync(passwordFile, "cli backup password\n");
    const s3Env = {
      AWS_ACCESS_KEY_ID: env.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
      AWS_DEFAULT_REGION: env.s3.region,
    };
    cliEnv = {
      ...process.env,
      ...s3Env,
      KUBECONFIG: env.cluster.kubeconfigPath,
      ARCA_PASSWORD: "",
      ARCA_PASSWORD_FILE: passwordFile,
      ARCA_LOCATION: location,
    };
    oracle = {
      repo: `s3:${env.s3.endpoint}/${bucket}/${prefix}`,
      env: { ...s3Env, RESTIC_PASSWORD_FILE: passwordFile },
    };
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(ns).result(),
      forConfigMap(ns, "settings").data({ mode: "fast", "unicode.json": '{"x": "\\u00e9"}' }).result(),
      forSecret(ns, "password").stringData({ p: "s3cret" }).result(),
    ]);
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await env?.cluster
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
    await env?.stop();
  });

  it("creates a backup in a new location that restic lists, dumps and checks", async () => {
    const created = await arca("backup", "create", "nightly", "--local", "--include-namespaces", ns);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /initialized a new repository/);
    assert.match(created.stdout, /^backup nightly: Completed \(snapshot [0-9a-f]{8}\)$/m);

    const listing = await restic(oracle, ["ls", "latest"]);
    for (const path of [
      "/arca/backup.json",
      "/arca/log.jsonl",
      "/arca/resource-list.json",
      "/arca/results.json",
      `/resources/configmaps/namespaces/${ns}/settings.json`,
      `/resources/secrets/namespaces/${ns}/password.json`,
      `/resources/namespaces/cluster/${ns}.json`,
    ])
      assert.ok(listing.split("\n").includes(path), `restic ls lacks ${path}`);
    // What restic reads back is the object as the API server serves it.
    const dumped = JSON.parse(
      await restic(oracle, ["dump", "latest", `/resources/configmaps/namespaces/${ns}/settings.json`]),
    );
    const live = await new KubeClient(env.cluster.kubeConfig()).getJson(
      "reading the live object",
      `/api/v1/namespaces/${ns}/configmaps/settings`,
    );
    assert.deepEqual(dumped, { apiVersion: "v1", kind: "ConfigMap", ...(live as object) });
    await restic(oracle, ["check", "--read-data"]);
  });

  it("refuses to reuse a name, and changes nothing", async () => {
    const before = await restic(oracle, ["snapshots", "--json"]);
    const again = await arca("backup", "create", "nightly", "--local", "--include-namespaces", ns);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a backup named nightly already exists/);
    assert.match(again.stderr, /hint: choose another name/);
    assert.equal(await restic(oracle, ["snapshots", "--json"]), before);
  });

  it("lists and describes backups, with what was included and why", async () => {
    const got = JSON.parse((await arca("backup", "get", "-o", "json")).stdout) as Array<{
      name: string;
      record: { status: { phase: string; itemsBackedUp: number } };
    }>;
    assert.deepEqual(
      got.map((b) => [b.name, b.record.status.phase]),
      [["nightly", "Completed"]],
    );
    const table = await arca("backup", "get");
    assert.match(table.stdout, /^NAME\s+PHASE\s+ITEMS/);
    assert.match(table.stdout, /^nightly\s+Completed\s+\d+/m);

    const described = await arca("backup", "describe", "nightly", "--details");
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Phase:\s+Completed$/m);
    assert.match(
      described.stdout,
      new RegExp(`^  configmaps \\(2\\)\\n    - ${ns}/kube-root-ca.crt\\n    - ${ns}/settings$`, "m"),
    );
    assert.match(described.stdout, /^ {2}events: events are a record of the past/m);

    const logs = await arca("backup", "logs", "nightly");
    assert.match(logs.stdout, /"msg":"backup finished","phase":"Completed"/);
  });

  it("downloads the resource tree as a .tar.gz", async () => {
    const file = join(scratch, "nightly.tar.gz");
    const downloaded = await arca("backup", "download", "nightly", "--file", file);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const names = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n");
    assert.ok(names.includes(`resources/configmaps/namespaces/${ns}/settings.json`));
    assert.ok(names.includes("arca/backup.json"));
    const settings = JSON.parse(
      execFileSync("tar", ["-xzOf", file, `resources/configmaps/namespaces/${ns}/settings.json`], {
        encoding: "utf8",
      }),
    ) as { data: Record<string, string> };
    assert.equal(settings.data.mode, "fast");
    // Every file is dated as of the backup, the snapshot's time (to the second, as tar keeps it).
    const [snapshot] = await resticSnapshots(oracle);
    const listed = execFileSync("tar", ["--full-time", "-tvzf", file], {
      encoding: "utf8",
      env: { ...process.env, TZ: "UTC" },
    });
    const backupTime = new Date(snapshot?.time ?? "").toISOString().slice(0, 19).replace("T", " ");
    for (const line of listed.trim().split("\n")) assert.ok(line.includes(backupTime), line);
    const twice = await arca("backup", "download", "nightly", "--file", file);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already exists/);
  });

  it("stores an unchanged namespace once: a second backup finds its trees already there", async () => {
    const again = await arca("backup", "create", "nightly-again", "--local", "--include-namespaces", ns);
    assert.equal(again.code, 0, again.stderr);
    const [first, second] = await resticSnapshots(oracle);
    // restic reads both roots: the resource trees are the same blobs, only /arca differs.
    const subtree = async (tree: string | undefined, name: string) => {
      const { nodes } = JSON.parse(await restic(oracle, ["cat", "blob", tree ?? ""])) as {
        nodes: Array<{ name: string; subtree?: string }>;
      };
      return nodes.find((n) => n.name === name)?.subtree;
    };
    const resources = await subtree(first?.tree, "resources");
    assert.ok(resources);
    assert.equal(await subtree(second?.tree, "resources"), resources);
    assert.notEqual(await subtree(second?.tree, "arca"), await subtree(first?.tree, "arca"));
    const deleted = await arca("backup", "delete", "nightly-again", "--confirm");
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  it("says clearly when the kubeconfig or the password is wrong, and writes nothing", async () => {
    const before = await restic(oracle, ["snapshots", "--json"]);
    const noConfig = await arca(
      "--kubeconfig",
      join(scratch, "missing"),
      "backup",
      "create",
      "x1",
      "--local",
    );
    assert.equal(noConfig.code, 1);
    assert.match(noConfig.stderr, /loading kubeconfig .*missing/);
    // Nor does it leave an empty repository behind in a location that held none.
    const untouched = join(scratch, "untouched");
    mkdirSync(untouched);
    const newLocation = await arca(
      ...["--kubeconfig", join(scratch, "missing"), "backup", "create", "x3", "--local"],
      ...["--location", `file://${untouched}`],
    );
    assert.equal(newLocation.code, 1);
    assert.match(newLocation.stderr, /loading kubeconfig .*missing/);
    assert.deepEqual(readdirSync(untouched), []);
    const wrong = join(scratch, "wrong");
    writeFileSync(wrong, "not the password");
    const badPassword = await runArca(["backup", "create", "x2", "--local"], {
      ...cliEnv,
      ARCA_PASSWORD_FILE: wrong,
    });
    assert.equal(badPassword.code, 1);
    assert.match(badPassword.stderr, /password/i);
    assert.equal(await restic(oracle, ["snapshots", "--json"]), before);
  });

  it("deletes a backup's data only when confirmed", async () => {
    const unconfirmed = await arca("backup", "delete", "nightly");
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /pass --confirm/);
    const deleted = await arca("backup", "delete", "nightly", "--confirm");
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted backup nightly/);
    assert.deepEqual(JSON.parse((await arca("backup", "get", "-o", "json")).stdout), []);
    const missing = await arca("backup", "describe", "nightly");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no backup named nightly/);
    await restic(oracle, ["check", "--read-data"]);
  });
});
