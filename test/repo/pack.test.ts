// A pack filled in place: blobs sealed into its buffer and blobs copied in, past its first
// capacity, read back through its header.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { decompress } from "../../src/repo/compression.js";
import { decrypt, newMasterKey } from "../../src/repo/crypto.js";
import { contentId } from "../../src/repo/layout.js";
import { indexGroups } from "../../src/repo/master-index.js";
import { decodeHeader, PackBuilder } from "../../src/repo/pack.js";
import { sealBlob } from "../../src/repo/seal.js";

describe("pack builder", () => {
  it("grows past its capacity and lists every blob where it put it", () => {
    const key = newMasterKey();
    const pack = new PackBuilder(1024);
    const blobs = [
      Buffer.from(JSON.stringify({ kind: "ConfigMap", data: "x".repeat(3000) })), // compresses
      randomBytes(5000), // does not
      randomBytes(10),
    ];
    for (const data of blobs.slice(0, 2)) {
      const sealed = sealBlob(key, data, true, (length) => pack.reserve(length));
      pack.written(contentId(data), "data", sealed.length, sealed.uncompressedLength);
    }
    const other = sealBlob(key, blobs[2] as Buffer, true, (length) => ({
      buffer: Buffer.alloc(length),
      offset: 0,
    }));
    assert.equal(other.uncompressedLength, undefined, "10 bytes are stored as they are");
    const elsewhere = Buffer.alloc(other.length);
    sealBlob(key, blobs[2] as Buffer, true, () => ({ buffer: elsewhere, offset: 0 }));
    pack.add(contentId(blobs[2] as Buffer), "tree", elsewhere);

    const bytes = pack.finish(key);
    const listed = decodeHeader(key, bytes, bytes.length, "pack");
    assert.deepEqual(
      listed.map((b) => [b.id, b.type, b.uncompressedLength !== undefined]),
      blobs.map((b, i) => [contentId(b), i === 2 ? "tree" : "data", i === 0]),
    );
    for (const [i, b] of listed.entries()) {
      const plain = decrypt(key, bytes.subarray(b.offset, b.offset + b.length), `blob ${i}`);
      const data =
        b.uncompressedLength === undefined ? plain : decompress(plain, `blob ${i}`, b.uncompressedLength);
      assert.deepEqual(data, blobs[i]);
    }
  });
});

describe("index files of a backup", () => {
  it("split at the blob limit between packs, never inside one", () => {
    const pack = (n: number) => ({ blobs: Array.from({ length: n }, (_, i) => i) });
    const sizes = (packs: Array<{ blobs: number[] }>, max: number) =>
      [...indexGroups(packs, max)].map((g) => g.map((p) => p.blobs.length));
    assert.deepEqual(sizes([pack(3), pack(4), pack(2), pack(5)], 7), [
      [3, 4],
      [2, 5],
    ]);
    assert.deepEqual(sizes([pack(9), pack(1)], 7), [[9], [1]], "a pack above the limit has a file to itself");
    assert.deepEqual(sizes([], 7), []);
  });
});
