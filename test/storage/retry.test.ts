import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StorageError } from "../../src/storage/index.js";
import { backoffDelay, withRetries } from "../../src/storage/retry.js";

const policy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 };
const fail = (kind: ConstructorParameters<typeof StorageError>[0]) =>
  new StorageError(kind, "put", "s3://b", "k", kind);

describe("retries", () => {
  it("grows the backoff ceiling exponentially up to the cap, with jitter below it", () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((a) => backoffDelay(p, a, () => 0.999)),
      [99, 199, 399, 799, 999],
    );
    assert.equal(
      backoffDelay(p, 3, () => 0),
      0,
    );
  });

  for (const kind of ["throttled", "server", "unreachable", "timeout"] as const) {
    it(`retries ${kind} failures until one succeeds`, async () => {
      let calls = 0;
      const result = await withRetries(policy, undefined, async () => {
        if (++calls < 3) throw fail(kind);
        return "done";
      });
      assert.deepEqual([result, calls], ["done", 3]);
    });
  }

  for (const kind of [
    "access-denied",
    "not-found",
    "invalid",
    "bad-credentials",
    "no-such-bucket",
  ] as const) {
    it(`does not retry ${kind}`, async () => {
      let calls = 0;
      await assert.rejects(
        withRetries(policy, undefined, async () => {
          calls++;
          throw fail(kind);
        }),
      );
      assert.equal(calls, 1);
    });
  }

  it("stops after the last attempt with the last error", async () => {
    let calls = 0;
    await assert.rejects(
      withRetries(policy, undefined, async () => {
        calls++;
        throw fail("server");
      }),
      (err) => err instanceof StorageError && err.kind === "server",
    );
    assert.equal(calls, policy.attempts);
  });

  it("stops retrying when the caller aborts", async () => {
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      withRetries({ attempts: 10, baseDelayMs: 50, maxDelayMs: 50 }, controller.signal, async () => {
        calls++;
        controller.abort();
        throw fail("server");
      }),
    );
    assert.equal(calls, 1);
  });
});
