// oss:// locations: endpoint resolution, the credential chain in its documented order, and real
// I/O through OSS's S3-compatible API against the test S3 server.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ArcaError } from "../../src/common/errors.js";
import {
  CredentialChain,
  REFRESH_MARGIN_MS,
  environmentSource,
  ramRoleSource,
  secretFileSource,
} from "../../src/storage/alibaba-credentials.js";
import { ossEndpoint, openStore, parseLocation } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { startMetadataService } from "../support/ecs-metadata.js";
import { uniqueName } from "../support/wait.js";

function oss(url: string) {
  const location = parseLocation(url);
  assert.equal(location.provider, "oss");
  return location as Extract<typeof location, { provider: "oss" }>;
}

describe("oss:// endpoints", () => {
  it("resolves the public, internal and accelerated endpoints of a region", () => {
    assert.equal(ossEndpoint(oss("oss://b1b/p?region=cn-hangzhou")), "https://oss-cn-hangzhou.aliyuncs.com");
    assert.equal(
      ossEndpoint(oss("oss://b1b/p?region=cn-beijing&network=internal")),
      "https://oss-cn-beijing-internal.aliyuncs.com",
    );
    assert.equal(
      ossEndpoint(oss("oss://b1b/p?region=cn-beijing&network=accelerate")),
      "https://oss-accelerate.aliyuncs.com",
    );
    assert.equal(
      ossEndpoint(oss("oss://b1b/p?region=cn-beijing&endpoint=http://127.0.0.1:9000")),
      "http://127.0.0.1:9000",
    );
  });

  it("uses virtual-hosted style unless told otherwise", () => {
    assert.equal(oss("oss://b1b?region=cn-hangzhou").forcePathStyle, false);
  });

  it("rejects a location without a region, or with an unknown network", () => {
    assert.throws(() => parseLocation("oss://b1b/p"), /needs region=/);
    assert.throws(
      () => parseLocation("oss://b1b/p?region=cn-hangzhou&network=vpc"),
      /network must be internal or accelerate/,
    );
  });
});

describe("OSS credential chain", () => {
  const dir = mkdtempSync(join(tmpdir(), "arca-oss-cred-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = (id: string, secret: string) => {
    const path = join(dir, `${id}.yaml`);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    writeFileSync(
      path,
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: alibaba-addon-secret\ndata:\n  access-key-id: ${b64(id)}\n  access-key-secret: ${b64(secret)}\n`,
    );
    return path;
  };
  const env = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIenvironment",
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: "env-secret",
  };

  it("prefers the add-on Secret, then the environment, then the RAM role", async () => {
    const metadata = await startMetadataService("worker-role", () => ({
      AccessKeyId: "STS.role",
      AccessKeySecret: "role-secret",
      SecurityToken: "token",
      Expiration: new Date(Date.now() + 3_600_000).toISOString(),
    }));
    try {
      const role = ramRoleSource({ endpoint: metadata.endpoint });
      const fromSecret = new CredentialChain([
        secretFileSource(secretFile("LTAIsecretfile", "s1")),
        environmentSource(env),
        role,
      ]);
      assert.equal((await fromSecret.get()).accessKeyId, "LTAIsecretfile");
      const fromEnv = new CredentialChain([environmentSource(env), role]);
      assert.equal((await fromEnv.get()).accessKeyId, "LTAIenvironment");
      const fromRole = new CredentialChain([environmentSource({}), role]);
      const creds = await fromRole.get();
      assert.deepEqual([creds.accessKeyId, creds.securityToken], ["STS.role", "token"]);
    } finally {
      await metadata.stop();
    }
  });

  it("logs the chosen source and never the secret", async () => {
    const lines: string[] = [];
    const { createLogger } = await import("../../src/common/log.js");
    const { Writable } = await import("node:stream");
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
    const chain = new CredentialChain(
      [environmentSource({ ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "very-secret-value" })],
      createLogger({ destination: sink }),
    );
    await chain.get();
    const text = lines.join("");
    assert.match(text, /ALIBABA_CLOUD_ACCESS_KEY_ID/);
    assert.match(text, /LTAI\*\*\*\*ment/);
    assert.doesNotMatch(text, /very-secret-value/);
  });

  it("refreshes an STS token before it expires, and not before that", async () => {
    let clock = Date.parse("2026-11-24T00:00:00Z");
    const ttl = 60 * 60_000;
    const metadata = await startMetadataService("worker-role", (n) => ({
      AccessKeyId: `STS.key${n}`,
      AccessKeySecret: `secret${n}`,
      SecurityToken: `token${n}`,
      Expiration: new Date(clock + ttl).toISOString(),
    }));
    try {
      const chain = new CredentialChain(
        [ramRoleSource({ endpoint: metadata.endpoint })],
        undefined,
        () => clock,
      );
      assert.equal((await chain.get()).securityToken, "token1");
      clock += ttl - REFRESH_MARGIN_MS - 1000; // still fresh
      assert.equal((await chain.get()).securityToken, "token1");
      assert.equal(metadata.fetches, 1);
      clock += 2000; // inside the refresh margin
      assert.equal((await chain.get()).securityToken, "token2");
      assert.equal(metadata.fetches, 2);
    } finally {
      await metadata.stop();
    }
  });

  it("names every source it tried when none has credentials", async () => {
    // Off ECS the metadata service does not answer: the unnamed role has nothing to offer.
    const chain = new CredentialChain([
      environmentSource({}),
      ramRoleSource({ endpoint: "http://127.0.0.1:9", timeoutMs: 500 }),
    ]);
    await assert.rejects(
      chain.get(),
      (err) =>
        err instanceof ArcaError &&
        /no OSS credentials found/.test(err.message) &&
        /environment/.test(err.message),
    );
  });

  it("fails loudly when a named RAM role cannot be fetched", async () => {
    const chain = new CredentialChain([
      ramRoleSource({ role: "backup-role", endpoint: "http://127.0.0.1:9", timeoutMs: 500 }),
    ]);
    await assert.rejects(chain.get(), /RAM role backup-role/);
  });

  it("rejects a Secret that lacks a key, naming the key", async () => {
    const path = join(dir, "half.yaml");
    writeFileSync(path, "kind: Secret\nstringData:\n  access-key-id: LTAIhalf\n");
    await assert.rejects(
      new CredentialChain([secretFileSource(path)]).get(),
      /lacks access-key-id or access-key-secret/,
    );
  });
});

describe("oss:// store through the S3-compatible API", () => {
  let env: TestEnvironment;
  let bucket: string;
  before(async () => {
    env = await testEnvironment();
    bucket = await env.s3.createBucket();
  });
  after(async () => env?.stop());

  // Real OSS needs virtual-hosted style; the test server has no wildcard DNS, hence path style.
  const url = () =>
    `oss://${bucket}/${uniqueName("oss")}?region=cn-hangzhou&endpoint=${env.s3.endpoint}&forcePathStyle=true`;

  it("writes and reads with keys from the RAM role of the (played) metadata service", async () => {
    const metadata = await startMetadataService("worker-role", () => ({
      AccessKeyId: env.s3.accessKeyId,
      AccessKeySecret: env.s3.secretAccessKey,
      Expiration: new Date(Date.now() + 3_600_000).toISOString(),
    }));
    const saved = { ...process.env };
    process.env.ARCA_ECS_METADATA_ENDPOINT = metadata.endpoint;
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    // MinIO serves one region; the OSS region id only shapes the endpoint, which is explicit here.
    const store = openStore(url().replace("cn-hangzhou", env.s3.region));
    try {
      await store.put("config", Buffer.from("via role"));
      assert.equal((await store.get("config")).toString(), "via role");
      assert.ok(metadata.fetches >= 1);
    } finally {
      store.close();
      process.env = saved;
      await metadata.stop();
    }
  });

  it("writes and reads with keys from the add-on Secret", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arca-oss-secret-"));
    const path = join(dir, "secret.yaml");
    writeFileSync(
      path,
      `kind: Secret\nstringData:\n  access-key-id: ${env.s3.accessKeyId}\n  access-key-secret: ${env.s3.secretAccessKey}\n`,
    );
    const store = openStore(url().replace("cn-hangzhou", env.s3.region), {
      ossSecret: secretFileSource(path),
    });
    try {
      await store.put("config", Buffer.from("via secret"));
      assert.equal((await store.get("config")).toString(), "via secret");
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
