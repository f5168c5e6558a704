// What every ObjectStore driver must do, run against each real backend.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { it } from "node:test";
import { isStorageError, type ObjectStore } from "../../src/storage/index.js";

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const item of store.list(prefix)) out.push(item.key);
  return out;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Registers the contract's tests; `store()` gives a store whose location starts empty. */
export function objectStoreContract(store: () => ObjectStore): void {
  it("puts and gets buffers and streams", async () => {
    const s = store();
    const data = randomBytes(100_000);
    await s.put("data/ab/blob", data);
    assert.deepEqual(await s.get("data/ab/blob"), data);
    await s.put("data/ab/stream", Readable.from([data.subarray(0, 10), data.subarray(10)]));
    assert.deepEqual(await drain(await s.getStream("data/ab/stream")), data);
    assert.deepEqual(await s.head("data/ab/blob"), { key: "data/ab/blob", size: data.length });
  });

  it("reads ranges", async () => {
    const s = store();
    await s.put("range", Buffer.from("0123456789"));
    assert.equal((await s.get("range", { range: { offset: 3, length: 4 } })).toString(), "3456");
    assert.equal((await s.get("range", { range: { offset: 7 } })).toString(), "789");
    assert.equal((await s.get("range", { range: { offset: 8, length: 100 } })).toString(), "89");
    assert.equal(
      (await drain(await s.getStream("range", { range: { offset: 1, length: 2 } }))).toString(),
      "12",
    );
  });

  it("lists by prefix in key order, including partial names and nested keys", async () => {
    const s = store();
    for (const k of [
      "snapshots/b",
      "snapshots/a",
      "data/00/x",
      "data/01/y",
      "data/0a/z",
      "index/1",
      "keys/k",
    ]) {
      await s.put(k, Buffer.from(k));
    }
    assert.deepEqual(await keys(s, "snapshots/"), ["snapshots/a", "snapshots/b"]);
    assert.deepEqual(await keys(s, "data/0"), ["data/00/x", "data/01/y", "data/0a/z"]);
    assert.deepEqual(await keys(s, "data/01"), ["data/01/y"]);
    assert.deepEqual(await keys(s, "nothing/"), []);
    const all = await keys(s, "");
    assert.deepEqual(all, [...all].sort());
    assert.equal(all.length, 7);
  });

  it("lists more objects than one page holds", async () => {
    const s = store();
    const names = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((k) => s.put(k, Buffer.from("x"))));
    }
    assert.deepEqual(await keys(s, "many/"), names);
  });

  it("deletes, and deleting a missing object is not an error", async () => {
    const s = store();
    await s.put("gone", Buffer.from("x"));
    await s.delete("gone");
    assert.equal(await s.head("gone"), undefined);
    await s.delete("gone");
    await assert.rejects(s.get("gone"), (err) => isStorageError(err, "not-found"));
  });

  it("creates only when absent, leaving an existing object untouched", async () => {
    const s = store();
    assert.equal(await s.create("locks/one", Buffer.from("first")), true);
    assert.equal(await s.create("locks/one", Buffer.from("second")), false);
    assert.equal((await s.get("locks/one")).toString(), "first");
  });

  it("refuses keys that could escape the location", async () => {
    const s = store();
    for (const bad of ["../outside", "a/../../b", "/abs", "a//b", ""]) {
      await assert.rejects(s.put(bad, Buffer.from("x")), (err) => isStorageError(err, "invalid"), bad);
    }
  });

  it("stops when the caller aborts", async () => {
    const s = store();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(s.put("aborted", Buffer.from("x"), { signal: controller.signal }));
    assert.equal(await s.head("aborted"), undefined);
  });
}
