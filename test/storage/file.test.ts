import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isStorageError, openStore, type ObjectStore } from "../../src/storage/index.js";
import { objectStoreContract } from "./contract.js";

describe("file:// store", () => {
  const dirs: string[] = [];
  const fresh = (): ObjectStore => {
    const dir = mkdtempSync(join(tmpdir(), "arca-file-store-"));
    dirs.push(dir);
    return openStore(`file://${dir}`);
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  objectStoreContract(fresh);

  it("leaves no temporary files behind", async () => {
    const s = fresh();
    await s.put("data/aa/1", Buffer.from("x"));
    await s.create("data/aa/2", Buffer.from("y"));
    await s.create("data/aa/2", Buffer.from("z"));
    assert.deepEqual(readdirSync(join(dirs.at(-1) as string, "data", "aa")).sort(), ["1", "2"]);
  });

  it("says the directory does not exist, instead of creating it", async () => {
    const missing = join(tmpdir(), `arca-missing-${Date.now()}`);
    const s = openStore(`file://${missing}`);
    await assert.rejects(
      s.put("config", Buffer.from("x")),
      (err) => isStorageError(err, "no-such-bucket") && err.message.includes(missing),
    );
  });

  it("does not follow a symlink out of the root when listing", async () => {
    const s = fresh();
    const root = dirs.at(-1) as string;
    const outside = mkdtempSync(join(tmpdir(), "arca-outside-"));
    dirs.push(outside);
    writeFileSync(join(outside, "secret"), "x");
    symlinkSync(outside, join(root, "link"));
    const listed: string[] = [];
    for await (const o of s.list("")) listed.push(o.key);
    assert.deepEqual(listed, []);
  });
});
