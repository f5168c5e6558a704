// `arca location check` run as an operator runs it, against the real S3 server, for each
// failure mode it must tell apart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { forNamespace, forSecret } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { freePort } from "../env/ports.js";
import { runArca } from "../cli/run.js";
import { uniqueName } from "../support/wait.js";

describe("arca location check", () => {
  let env: TestEnvironment;
  let bucket: string;
  before(async () => {
    env = await testEnvironment();
    bucket = await env.s3.createBucket();
  });
  after(async () => env?.stop());

  const url = (b: string, region = env.s3.region, endpoint = env.s3.endpoint) =>
    `s3://${b}/check?region=${region}&endpoint=${endpoint}&forcePathStyle=true`;
  const check = (location: string, key = env.s3.accessKeyId, secret = env.s3.secretAccessKey) =>
    runArca(["location", "check", "--location", location], {
      ...process.env,
      AWS_ACCESS_KEY_ID: key,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_REGION: "",
    });

  it("reports every permission OK on a usable location, and exits 0", async () => {
    const { code, stdout } = await check(url(bucket));
    assert.equal(code, 0, stdout);
    for (const probe of ["write", "read", "list", "delete"])
      assert.match(stdout, new RegExp(`^${probe} +OK`, "m"));
    assert.match(stdout, /The location is ready/);
  });

  it("names the action that a user's policy lacks", async () => {
    const user = uniqueName("nolist");
    const secret = "nolist-secret-123";
    await env.s3.addUser(user, secret, {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
          Resource: [`arn:aws:s3:::${bucket}/*`],
        },
      ],
    });
    const { code, stdout } = await check(url(bucket), user, secret);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^write +OK/m);
    assert.match(stdout, /^list +DENIED +s3:ListBucket/m);
    assert.match(stdout, /the policy lacks s3:ListBucket/);
  });

  it("says the bucket does not exist", async () => {
    const { code, stdout } = await check(url("no-such-bucket-here"));
    assert.equal(code, 1);
    assert.match(stdout, /Problem: the bucket does not exist/);
  });

  it("says the credentials are bad", async () => {
    const { code, stdout } = await check(url(bucket), env.s3.accessKeyId, "wrong-secret-value");
    assert.equal(code, 1);
    assert.match(stdout, /Problem: the credentials are missing or not valid/);
  });

  it("says the region or endpoint is wrong", async () => {
    const { code, stdout } = await check(url(bucket, "eu-central-1"));
    assert.equal(code, 1);
    assert.match(stdout, /Problem: the bucket is not in this region, or the endpoint is wrong/);
  });

  it("says the network is unreachable", async () => {
    const closed = await freePort();
    const { code, stdout } = await check(url(bucket, env.s3.region, `http://127.0.0.1:${closed}`));
    assert.equal(code, 1);
    assert.match(stdout, /Problem: the store is unreachable/);
  });

  it("uses the alibaba-addon-secret of the install namespace for oss:// locations", async () => {
    const core = env.cluster.kubeConfig().makeApiClient(CoreV1Api);
    const ns = uniqueName("install");
    await core.createNamespace({ body: forNamespace(ns).result() });
    try {
      await core.createNamespacedSecret({
        namespace: ns,
        body: forSecret(ns, "alibaba-addon-secret")
          .stringData({ "access-key-id": env.s3.accessKeyId, "access-key-secret": env.s3.secretAccessKey })
          .result(),
      });
      // MinIO's region stands in for the OSS region; the endpoint is explicit, path style as before.
      const location = `oss://${bucket}/oss-check?region=${env.s3.region}&endpoint=${env.s3.endpoint}&forcePathStyle=true`;
      const { code, stdout, stderr } = await runArca(
        ["--kubeconfig", env.cluster.kubeconfigPath, "-n", ns, "location", "check", "--location", location],
        {
          ...process.env,
          ALIBABA_CLOUD_ACCESS_KEY_ID: "",
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: "",
          ARCA_ECS_METADATA_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        },
      );
      assert.equal(code, 0, stdout + stderr);
      assert.match(stdout, /^list +OK +oss:ListObjects/m);
      assert.match(stderr, new RegExp(`Secret ${ns}/alibaba-addon-secret`), "the log names the source");
      assert.doesNotMatch(stderr, new RegExp(env.s3.secretAccessKey), "and never the secret");
    } finally {
      await core.deleteNamespace({ name: ns });
    }
  });

  it("rejects a malformed URL with a usage hint", async () => {
    const { code, stderr } = await runArca(["location", "check", "--location", "s4://bucket"]);
    assert.equal(code, 1);
    assert.match(stderr, /unknown scheme s4/);
    assert.match(stderr, /hint: use a URL like/);
  });
});
