// Small blobs sealed many at a time off the main thread (native/seal-batch.c): each must open
// with the same reader as a blob sealed alone, compressed exactly where that pays, and a
// repository written that way must pass restic's own check.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decompress } from "../../src/repo/compression.js";
import { CRYPTO_OVERHEAD, decrypt, newMasterKey, type MasterKey } from "../../src/repo/crypto.js";
import { Repository } from "../../src/repo/repository.js";
import type { Id } from "../../src/repo/layout.js";
import { SealBatch } from "../../src/repo/seal.js";
import { openStore } from "../../src/storage/index.js";
import { restic } from "../support/restic.js";

/** A Kubernetes-like object of about `size` bytes: JSON, compressible. */
const object = (i: number, size = 1500) =>
  Buffer.from(
    JSON.stringify({
      kind: "ConfigMap",
      metadata: { name: `cm-${i}` },
      data: { conf: `k=${i}\n`.repeat(size / 6) },
    }),
  );

describe("sealing small blobs in batches", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-seal-batch-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Seals `blobs` as one batch; each one's sealed bytes and plain length, in order. */
  async function sealAll(key: MasterKey, blobs: Array<Buffer | Buffer[]>, compression = true) {
    const batch = new SealBatch(64 * 1024, 16);
    blobs.forEach((blob, i) => {
      const length = Array.isArray(blob) ? Buffer.concat(blob).length : blob.length;
      assert.ok(batch.fits(length), `blob ${i} fits`);
      batch.push(`blob-${i}` as Id, blob);
    });
    const sealed: Array<{ id: Id; bytes: Buffer; uncompressed?: number }> = [];
    await batch.seal(key, compression, async (id, bytes, uncompressed) => {
      sealed.push({ id, bytes: Buffer.from(bytes), uncompressed });
    });
    return sealed;
  }

  it("seals each blob as the reader expects, compressing only where it pays", async () => {
    const key = newMasterKey();
    const blobs: Array<Buffer | Buffer[]> = [
      object(1),
      randomBytes(3000), // incompressible: stored as given
      Buffer.from('{"a":1}'), // under 64 bytes: stored as given
      [Buffer.from('{"kind":"Secret",'), object(2).subarray(1)], // in pieces, as a listed item
      object(3, 16_000),
    ];
    const plain = blobs.map((b) => (Array.isArray(b) ? Buffer.concat(b) : b));
    const sealed = await sealAll(key, blobs);
    assert.deepEqual(
      sealed.map((s) => s.id),
      plain.map((_, i) => `blob-${i}`),
    );
    sealed.forEach(({ bytes, uncompressed }, i) => {
      const opened = decrypt(key, bytes, `blob ${i}`);
      const data = uncompressed !== undefined ? decompress(opened, `blob ${i}`, uncompressed) : opened;
      assert.deepEqual(data, plain[i], `blob ${i}`);
    });
    assert.deepEqual(
      sealed.map((s) => s.uncompressed !== undefined),
      [true, false, false, true, true],
      "compressed exactly the compressible ones",
    );
    assert.ok((sealed[0]?.bytes.length ?? 0) < (plain[0] as Buffer).length, "the JSON object got smaller");
    assert.equal(sealed[1]?.bytes.length, 3000 + CRYPTO_OVERHEAD);
  });

  it("stores nothing compressed when the repository does not compress", async () => {
    const sealed = await sealAll(newMasterKey(), [object(1), object(2)], false);
    assert.deepEqual(
      sealed.map((s) => [s.bytes.length, s.uncompressed]),
      [
        [object(1).length + CRYPTO_OVERHEAD, undefined],
        [object(2).length + CRYPTO_OVERHEAD, undefined],
      ],
    );
  });

  it("takes no blob past its room, its blob count or the small-blob size", () => {
    const batch = new SealBatch(4096, 2);
    assert.ok(!batch.fits(16 * 1024 + 1), "larger blobs are not batched");
    batch.push("a" as Id, Buffer.alloc(3000));
    assert.ok(!batch.fits(1097), "past the room");
    assert.ok(batch.fits(1096));
    batch.push("b" as Id, Buffer.alloc(10));
    assert.ok(!batch.fits(1), "past the blob count");
    batch.clear();
    assert.ok(batch.fits(4096), "empty again once cleared");
  });

  it("writes packs restic checks when a page's worth of objects arrives at once", async () => {
    const dir = join(scratch, "repo");
    mkdirSync(dir);
    const repo = await Repository.init(openStore(`file://${dir}`), "pw");
    const ids: string[] = [];
    try {
      // 1200 objects of about 1.5 KiB: four batches of 512 KiB, so the last waits for one of
      // the three out at once, and is sealed by the flush.
      const adding = Array.from({ length: 1200 }, (_, i) => repo.saveBlob("data", object(i)));
      for (const { id, added } of await Promise.all(adding)) {
        assert.ok(added);
        ids.push(id);
      }
      await repo.flush();
      assert.equal(repo.stats.dataBlobs, 1200);
      for (const [i, id] of ids.entries())
        assert.deepEqual(await repo.loadBlob(id), object(i), `object ${i}`);
    } finally {
      repo.close();
    }
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "pw" } }, ["check", "--read-data"]);
  });

  it("names what was wrong when called with the wrong arguments", async () => {
    const { native } = await import("../../src/common/native.js");
    const out = Buffer.alloc(10);
    assert.throws(
      () =>
        native.sealBatch(
          Buffer.alloc(64),
          Buffer.alloc(100),
          Uint32Array.of(100),
          1,
          64,
          0.97,
          out,
          new Int32Array(2),
        ),
      /sealBatch: out must have at least 132 bytes for these blobs \(got 10\)/,
    );
    assert.throws(
      () =>
        native.sealBatch(
          Buffer.alloc(3),
          Buffer.alloc(1),
          Uint32Array.of(1),
          1,
          64,
          0.97,
          out,
          new Int32Array(2),
        ),
      /sealBatch: key must be 64 bytes \(got 3\)/,
    );
  });
});
