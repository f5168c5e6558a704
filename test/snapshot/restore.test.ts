// Arca's own restore: sub-paths, sparse files, and restoring over an existing tree.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import {
  allocatedBytes,
  assertSameTree,
  describeTree,
  standardTree,
  writeTree,
} from "../support/fixture-tree.js";
import { uniqueName } from "../support/wait.js";

describe("restore", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-restore-"));
  const source = join(scratch, "source");
  let repo: Repository;
  let tree: string;

  before(async () => {
    await writeTree(source, standardTree());
    mkdirSync(join(scratch, "repo"));
    repo = await Repository.init(openStore(`file://${join(scratch, "repo")}`), "pw");
    tree = (await backupDirectory(repo, source)).snapshot.tree;
  });
  after(() => {
    repo?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("restores the tree with its metadata, keeping sparse files sparse", async () => {
    const target = join(scratch, uniqueName("out"));
    await restoreTree(repo, tree, target, { include: source });
    assertSameTree(await describeTree(target), await describeTree(source));
    assert.ok((await allocatedBytes(join(target, "sparse.img"))) < 1024 * 1024);
  });

  it("restores a sub-path only", async () => {
    const target = join(scratch, uniqueName("out"));
    await restoreTree(repo, tree, target, { include: `${source}/docs/nested` });
    assert.deepEqual(Object.keys(await describeTree(target)), ["deeper", "deeper/random.bin"]);
  });

  it("over an existing tree, rewrites only the chunks that differ", async () => {
    const target = join(scratch, uniqueName("out"));
    await restoreTree(repo, tree, target, { include: source });
    // Damage 1 KiB in the middle of the 3 MiB file.
    const fd = openSync(join(target, "docs/nested/deeper/random.bin"), "r+");
    writeSync(fd, Buffer.alloc(1024, 7), 0, 1024, 1_500_000);
    closeSync(fd);
    const result = await restoreTree(repo, tree, target, { include: source });
    assertSameTree(await describeTree(target), await describeTree(source));
    assert.ok(result.bytes <= 8 * 1024 * 1024, `wrote ${result.bytes} bytes, at most the one damaged chunk`);
    assert.ok(result.bytesSkipped > 2 * 1024 * 1024, `left ${result.bytesSkipped} bytes in place`);
  });

  it("refuses a path that is not in the snapshot", async () => {
    await assert.rejects(
      restoreTree(repo, tree, join(scratch, "x"), { include: "/no/such/path" }),
      /not in the snapshot/,
    );
  });
});
