// Sealing (native/seal.c) against the format written out with independent parts: node:crypto's
// AES-256-CTR and AES-128-ECB, and @noble/ciphers' Poly1305. restic reading what Arca seals is
// checked end to end by the interop tests; this pins the bytes and the failure cases.
import assert from "node:assert/strict";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import {
  AuthenticationError,
  CRYPTO_OVERHEAD,
  decrypt,
  encrypt,
  encryptInto,
  newMasterKey,
  type MasterKey,
} from "../../src/repo/crypto.js";
import { contentId } from "../../src/repo/layout.js";
import { native } from "../../src/common/native.js";

/** restic's design.rst, "Keys", done with node:crypto and noble. */
function referenceOpen(key: MasterKey, sealed: Buffer): Buffer | undefined {
  const iv = sealed.subarray(0, 16);
  const body = sealed.subarray(16, sealed.length - 16);
  const s = createCipheriv("aes-128-ecb", key.macK, null).setAutoPadding(false).update(iv);
  const tag = poly1305(body, Buffer.concat([key.macR, s]));
  if (!Buffer.from(tag).equals(sealed.subarray(sealed.length - 16))) return undefined;
  return createCipheriv("aes-256-ctr", key.encrypt, iv).update(body);
}

describe("blob sealing", () => {
  it("writes what an independent implementation of restic's format opens, at every small length", () => {
    const key = newMasterKey();
    for (const len of [0, 1, 15, 16, 17, 31, 32, 33, 1000, 4096, 70_000]) {
      const plain = randomBytes(len);
      const sealed = encrypt(key, plain);
      assert.equal(sealed.length, len + CRYPTO_OVERHEAD);
      assert.deepEqual(referenceOpen(key, sealed), plain, `length ${len}`);
      assert.deepEqual(decrypt(key, sealed, "blob"), plain, `length ${len}`);
    }
  });

  it("uses a fresh IV for every blob", () => {
    const key = newMasterKey();
    const plain = Buffer.alloc(64, 7);
    const ivs = new Set(
      Array.from({ length: 100 }, () => encrypt(key, plain).subarray(0, 16).toString("hex")),
    );
    assert.equal(ivs.size, 100);
  });

  it("keeps keys apart when one thread switches between repositories", () => {
    const [a, b] = [newMasterKey(), newMasterKey()];
    const plain = randomBytes(500);
    const [sa, sb, sa2] = [encrypt(a, plain), encrypt(b, plain), encrypt(a, plain)];
    assert.deepEqual(referenceOpen(a, sa), plain);
    assert.deepEqual(referenceOpen(b, sb), plain);
    assert.deepEqual(referenceOpen(a, sa2), plain);
    assert.equal(referenceOpen(b, sa), undefined);
    assert.throws(() => decrypt(b, sa, "blob 1234"), AuthenticationError);
  });

  it("refuses a flipped bit anywhere, naming the object", () => {
    const key = newMasterKey();
    const sealed = encrypt(key, randomBytes(100));
    for (const at of [0, 15, 16, 60, sealed.length - 17, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at] = (bad[at] as number) ^ 1;
      assert.throws(() => decrypt(key, bad, "pack 1f2e"), /pack 1f2e: authentication failed/);
    }
    assert.throws(() => decrypt(key, sealed.subarray(0, 31), "pack 1f2e"), /too short/);
  });

  it("seals into a view of a larger buffer without touching its neighbours", () => {
    const key = newMasterKey();
    const plain = randomBytes(300);
    const out = Buffer.alloc(1000, 0xaa);
    const n = encryptInto(key, plain, out.subarray(100), 50);
    assert.equal(n, 300 + CRYPTO_OVERHEAD);
    assert.deepEqual(referenceOpen(key, out.subarray(150, 150 + n)), plain);
    assert.ok(out.subarray(0, 150).every((b) => b === 0xaa));
    assert.ok(out.subarray(150 + n).every((b) => b === 0xaa));
    assert.throws(() => encryptInto(key, plain, out, 1000 - n + 1), /no room/);
  });
});

describe("content IDs", () => {
  it("are the same for bytes in pieces as for the bytes joined", () => {
    const whole = randomBytes(5000);
    const splits = [
      [whole],
      [whole.subarray(0, 40), whole.subarray(40)],
      [Buffer.alloc(0), whole, Buffer.alloc(0)],
      [1, 2, 3, 4, 5, 6].map((i) => whole.subarray((i - 1) * 1000, i * 1000)), // more than the addon takes at once
    ];
    for (const pieces of splits) assert.equal(contentId(pieces), contentId(whole));
    assert.equal(contentId([]), createHash("sha256").digest("hex"));
    const piece = whole.subarray(0, 10);
    assert.throws(() => native.sha256Hex(piece, piece, piece, piece, piece), /up to 4 pieces/);
    assert.throws(
      () => native.sha256Hex(piece, "not bytes" as unknown as Uint8Array),
      /must be a Uint8Array/,
    );
    const big = randomBytes(5 * 1024 * 1024);
    assert.equal(
      contentId([big.subarray(0, 10), big.subarray(10)]),
      createHash("sha256").update(big).digest("hex"),
    );
  });
});
