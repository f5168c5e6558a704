// A prune replaces every index file. Whoever opened the repository before it, or lists index/
// while it runs, must not keep (or fail on) the files it replaced: restic's rule is that the
// index is read under the lock, and a file that vanishes between listing and reading was
// superseded. Real prunes on a local repository, checked by the real restic.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pruneRepository } from "../../src/repo/prune.js";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { openStore, type ObjectStore } from "../../src/storage/index.js";
import { standardTree, writeTree } from "../support/fixture-tree.js";
import { restic } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-prune-race-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function newRepo(): Promise<string> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  (await Repository.init(openStore(`file://${dir}`), "pw")).close();
  return dir;
}

const open = (dir: string) => Repository.open(openStore(`file://${dir}`), "pw");

/** Runs `between` once, after the first full listing of index/ and before anything is read. */
function interruptIndexListing(store: ObjectStore, between: () => Promise<unknown>): ObjectStore {
  let done = false;
  const wrapped = Object.create(store) as ObjectStore;
  wrapped.list = async function* (prefix, options) {
    yield* store.list(prefix, options);
    if (prefix === "index/" && !done) {
      done = true;
      await between();
    }
  };
  return wrapped;
}

describe("a prune running beside another user of the repository", () => {
  let sourceA: string;
  let sourceB: string;
  before(async () => {
    sourceA = join(scratch, "a");
    sourceB = join(scratch, "b");
    await writeTree(sourceA, standardTree());
    await writeTree(sourceB, standardTree());
  });

  it("a writer that opened before the prune deduplicates against what the prune left, not what it deleted", async () => {
    const dir = await newRepo();
    const first = await open(dir);
    await backupDirectory(first, sourceA);
    const doomed = await backupDirectory(first, sourceB);
    first.close();

    const writer = await open(dir); // its index lists B's packs
    const pruner = await open(dir);
    await pruner.store.delete(`snapshots/${doomed.id}`);
    const pruned = await pruneRepository(pruner);
    pruner.close();
    assert.ok(pruned.packsDeleted > 0, "B's packs are gone");

    // Backing B up again must store its data anew: the index the writer opened with is stale.
    await backupDirectory(writer, sourceB);
    writer.close();
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "pw" } }, ["check", "--read-data"]);
  });

  it("an index file deleted between listing and reading is listed again, and the index is the prune's", async () => {
    const dir = await newRepo();
    const first = await open(dir);
    await backupDirectory(first, sourceA);
    const doomed = await backupDirectory(first, sourceB);
    first.close();

    const store = interruptIndexListing(openStore(`file://${dir}`), async () => {
      const pruner = await open(dir);
      await pruner.store.delete(`snapshots/${doomed.id}`);
      await pruneRepository(pruner);
      pruner.close();
    });
    const reader = await Repository.open(store, "pw");
    const fresh = await open(dir);
    assert.equal(reader.index.blobCount, fresh.index.blobCount);
    assert.deepEqual([...reader.index.packIds()].sort(), [...fresh.index.packIds()].sort());
    reader.close();
    fresh.close();
  });
});
