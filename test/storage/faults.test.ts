// What the S3 driver does when the network or the store misbehaves. The store is a real MinIO;
// the faults come from a loopback proxy in front of it, or from stopping MinIO itself.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { isStorageError, openStore, type ObjectStore, type OpenOptions } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { startS3Server } from "../env/s3.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { uniqueName } from "../support/wait.js";

const quickRetries = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200 };
const MiB = 1024 * 1024;

describe("S3 driver under faults", () => {
  let env: TestEnvironment;
  let proxy: FaultProxy;
  let bucket: string;
  const stores: ObjectStore[] = [];

  before(async () => {
    env = await testEnvironment();
    bucket = await env.s3.createBucket();
    proxy = await startFaultProxy(env.s3.endpoint);
  });
  after(async () => {
    stores.forEach((s) => s.close());
    await proxy?.stop();
    await env?.stop();
  });

  const store = (options: OpenOptions = {}) => {
    const s = openStore(
      `s3://${bucket}/${uniqueName("f")}?region=${env.s3.region}&endpoint=${proxy.url}&forcePathStyle=true`,
      {
        s3Credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
        retry: quickRetries,
        ...options,
      },
    );
    stores.push(s);
    return s;
  };

  it("absorbs a burst of 503 SlowDown answers with retries", async () => {
    const s = store();
    const before = proxy.requests;
    proxy.failNext(3, 503);
    await s.put("burst", Buffer.from("made it"));
    assert.equal(proxy.requests - before, 4, "three refused attempts, then the one that landed");
    assert.equal((await s.get("burst")).toString(), "made it");
  });

  it("gives up after the last attempt, saying the store is throttling", async () => {
    const s = store();
    proxy.failNext(quickRetries.attempts, 503);
    await assert.rejects(
      s.put("never", Buffer.from("x")),
      (err) => isStorageError(err, "throttled") && err.message.includes("never"),
    );
  });

  it("never retries a 4xx that cannot succeed", async () => {
    const s = store();
    const before = proxy.requests;
    proxy.failNext(1, 400, "InvalidArgument");
    await assert.rejects(s.put("bad", Buffer.from("x")), (err) => isStorageError(err, "invalid"));
    assert.equal(proxy.requests - before, 1);
  });

  it("times out on a server that does not answer, and says so", async () => {
    const s = store({ requestTimeoutMs: 300, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    proxy.delay(2000);
    const started = Date.now();
    try {
      await assert.rejects(
        s.get("anything"),
        (err) => isStorageError(err, "timeout") && /did not answer in time/.test(err.hint ?? ""),
      );
    } finally {
      proxy.delay(0);
    }
    assert.ok(Date.now() - started < 1900, "the timeout, not the slow server, ended the wait");
  });
});

describe("S3 driver when the server stops mid-upload", () => {
  it("fails with 'unreachable', naming the object, and leaves no partial object", async () => {
    const server = await startS3Server({ name: "stopping" });
    const dir = server.dir;
    let restarted: Awaited<ReturnType<typeof startS3Server>> | undefined;
    try {
      const bucket = await server.createBucket();
      const s = openStore(
        `s3://${bucket}?region=${server.region}&endpoint=${server.endpoint}&forcePathStyle=true`,
        {
          s3Credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
          retry: quickRetries,
          partSize: 5 * MiB,
        },
      );
      // A slow producer: the server is stopped after the first part has gone out.
      let sent = 0;
      const body = new Readable({
        async read() {
          if (sent === 2) void server.halt();
          if (sent >= 6) return this.push(null);
          sent++;
          await sleep(sent > 2 ? 300 : 0);
          this.push(Buffer.alloc(5 * MiB, sent));
        },
      });
      await assert.rejects(
        s.put("packs/big", body),
        (err) => isStorageError(err, "unreachable") && err.message.includes("packs/big"),
      );
      s.close();

      restarted = await startS3Server({ name: "restarted", dir, secretAccessKey: server.secretAccessKey });
      const again = openStore(
        `s3://${bucket}?region=${restarted.region}&endpoint=${restarted.endpoint}&forcePathStyle=true`,
        {
          s3Credentials: { accessKeyId: restarted.accessKeyId, secretAccessKey: restarted.secretAccessKey },
        },
      );
      assert.equal(
        await again.head("packs/big"),
        undefined,
        "an interrupted upload must not leave an object",
      );
      again.close();
    } finally {
      await restarted?.stop();
      await server.stop();
    }
  });
});
