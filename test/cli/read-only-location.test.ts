// A location that can only be read (a bucket with read-only credentials, as a DR site or an
// auditor is given): with --no-lock, an operator lists, describes, downloads and restores a
// backup from it, and nothing is written there.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CoreV1Api } from "@kubernetes/client-node";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";
import { runArca } from "./run.js";

describe("a backup location that can only be read", () => {
  let env: TestEnvironment;
  let core: CoreV1Api;
  let bucket: string;
  let url: string;
  const ns = uniqueName("read-only");
  const scratch = mkdtempSync(join(tmpdir(), "arca-read-only-location-"));
  const base = () => ({
    ...process.env,
    KUBECONFIG: env.cluster.kubeconfigPath,
    ARCA_PASSWORD: "pw",
    ARCA_PASSWORD_FILE: "",
    ARCA_LOCATION: "",
    AWS_REGION: "",
  });
  let reader: NodeJS.ProcessEnv;

  /** Every object key in the location, to show that nothing was written. */
  async function objects(): Promise<string[]> {
    const client = env.s3.client();
    try {
      const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "repo/" }));
      return (out.Contents ?? []).map((o) => o.Key as string).sort();
    } finally {
      client.destroy();
    }
  }

  before(async () => {
    env = await testEnvironment();
    core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    bucket = await env.s3.createBucket();
    url = `s3://${bucket}/repo?region=${env.s3.region}&endpoint=${env.s3.endpoint}&forcePathStyle=true`;
    await createObjects(env.cluster.kubeConfig(), [
      forNamespace(ns).result(),
      forConfigMap(ns, "settings").data({ mode: "fast" }).result(),
    ]);
    const admin = {
      ...base(),
      AWS_ACCESS_KEY_ID: env.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
    };
    const backup = await runArca(
      ["backup", "create", "nightly", "--local", "--location", url, "--include-namespaces", ns],
      admin,
    );
    assert.equal(backup.code, 0, backup.stderr);
    const user = uniqueName("auditor");
    await env.s3.addUser(user, "auditor-secret-123", {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/*`] },
        { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${bucket}`] },
      ],
    });
    reader = { ...base(), AWS_ACCESS_KEY_ID: user, AWS_SECRET_ACCESS_KEY: "auditor-secret-123" };
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await env?.stop();
  });

  it("describe stops at the lock and names --no-lock; with it, get, describe and download work", async () => {
    const refused = await runArca(["backup", "describe", "nightly", "--location", url], reader);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /could not write a lock to s3:\/\/.*; the repository may be read-only/);
    assert.match(refused.stderr, /hint: for a read-only command .* pass --no-lock/);

    const listed = await runArca(["backup", "get", "--location", url, "--no-lock", "-o", "json"], reader);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ name: string }>).map((b) => b.name),
      ["nightly"],
    );
    const described = await runArca(
      ["backup", "describe", "nightly", "--location", url, "--no-lock"],
      reader,
    );
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /configmaps/);

    const file = join(scratch, "nightly.tar.gz");
    const downloaded = await runArca(
      ["backup", "download", "nightly", "--location", url, "--no-lock", "-f", file],
      reader,
    );
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const entries = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n");
    assert.ok(entries.includes(`resources/configmaps/namespaces/${ns}/settings.json`), entries.join("\n"));
  });

  it("restore --local --no-lock brings the namespace back and writes nothing to the location", async () => {
    const before = await objects();
    await core.deleteNamespace({ name: ns });
    await eventually(`namespace ${ns} gone`, () =>
      core.readNamespace({ name: ns }).then(
        () => false,
        (err: unknown) => statusOf(err) === 404,
      ),
    );
    const remote = await runArca(["restore", "create", "--from-backup", "nightly", "--no-lock"], reader);
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /--no-lock works only with --local/);

    const restored = await runArca(
      ["restore", "create", "--from-backup", "nightly", "--local", "--location", url, "--no-lock"],
      reader,
    );
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /the restore's record is not kept in the location \(--no-lock\)/);
    const settings = await core.readNamespacedConfigMap({ namespace: ns, name: "settings" });
    assert.deepEqual(settings.data, { mode: "fast" });
    assert.deepEqual(await objects(), before, "the location is as it was");
  });
});
