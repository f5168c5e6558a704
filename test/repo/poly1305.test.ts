// The native Poly1305 against an independent implementation (@noble/ciphers), on the edge
// cases of the algorithm: empty input, partial blocks, and keys that stress the reduction.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { poly1305 as reference } from "@noble/ciphers/_poly1305.js";
import { native } from "../../src/common/native.js";

describe("native Poly1305", () => {
  it("matches RFC 8439's test vector", () => {
    const key = Buffer.from("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", "hex");
    const msg = Buffer.from("Cryptographic Forum Research Group");
    assert.equal(native.poly1305(msg, key).toString("hex"), "a8061dc1305136c6c22b8baf0c0127a9");
  });

  it("matches the reference on every length around the block size, and on random data", () => {
    const keys = [
      randomBytes(32),
      Buffer.alloc(32, 0xff),
      Buffer.concat([Buffer.alloc(16, 0xff), Buffer.alloc(16)]),
    ];
    for (const key of keys) {
      for (let len = 0; len <= 80; len++) {
        const msg = len % 2 ? randomBytes(len) : Buffer.alloc(len, 0xff);
        assert.equal(
          native.poly1305(msg, key).toString("hex"),
          Buffer.from(reference(msg, key)).toString("hex"),
          `length ${len}`,
        );
      }
    }
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(32);
      const msg = randomBytes(1 + Math.floor(Math.random() * 300_000));
      assert.deepEqual(native.poly1305(msg, key), Buffer.from(reference(msg, key)));
    }
  });

  it("takes a view into a larger buffer without copying it wrong", () => {
    const big = randomBytes(1000);
    const key = randomBytes(32);
    assert.deepEqual(
      native.poly1305(big.subarray(17, 517), key),
      Buffer.from(reference(big.subarray(17, 517), key)),
    );
  });

  it("rejects a key of the wrong size", () => {
    assert.throws(
      () => native.poly1305(Buffer.alloc(1), Buffer.alloc(16)),
      /poly1305: key must be 32 bytes \(got 16\)/,
    );
  });
});
