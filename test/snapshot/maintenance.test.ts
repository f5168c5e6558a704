// forget, prune, copy and keys, with restic checking every result.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copySnapshots } from "../../src/repo/copy.js";
import { applyPolicy } from "../../src/repo/forget.js";
import { LockedError } from "../../src/repo/lock.js";
import type { Snapshot } from "../../src/repo/model.js";
import { pruneRepository } from "../../src/repo/prune.js";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore, type ObjectStore } from "../../src/storage/index.js";
import { runArca } from "../cli/run.js";
import { assertSameTree, describeTree, standardTree, writeTree } from "../support/fixture-tree.js";
import { restic, resticSnapshots } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-maint-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function newRepo(password = "pw"): Promise<{ dir: string; repo: Repository }> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  return { dir, repo: await Repository.init(openStore(`file://${dir}`), password) };
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for await (const item of openStore(`file://${dir}`).list("data/")) total += item.size;
  return total;
}

const reopen = (dir: string) => Repository.open(openStore(`file://${dir}`), "pw");

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

describe("forget policy", () => {
  const snap = (time: string, tags: string[] = []): { id: string; snapshot: Snapshot } => ({
    id: time,
    snapshot: { time, tree: "t", paths: ["/data"], hostname: "h", tags },
  });
  const series = [
    snap("2026-11-24T10:00:00Z"),
    snap("2026-11-24T09:00:00Z"),
    snap("2026-11-23T23:00:00Z"),
    snap("2026-11-23T08:00:00Z", ["keep-me"]),
    snap("2026-11-16T08:00:00Z"),
    snap("2026-10-01T08:00:00Z"),
  ];
  const kept = (policy: Parameters<typeof applyPolicy>[1]) =>
    applyPolicy(series, policy)
      .filter((d) => d.keep)
      .map((d) => d.id)
      .sort()
      .reverse();

  it("keeps the last n", () =>
    assert.deepEqual(kept({ last: 2 }), ["2026-11-24T10:00:00Z", "2026-11-24T09:00:00Z"]));
  it("keeps the newest of each day", () =>
    assert.deepEqual(kept({ daily: 2 }), ["2026-11-24T10:00:00Z", "2026-11-23T23:00:00Z"]));
  it("keeps the newest of each ISO week", () =>
    assert.deepEqual(
      kept({ weekly: 3 }),
      ["2026-11-24T10:00:00Z", "2026-11-16T08:00:00Z", "2026-10-01T08:00:00Z"].sort().reverse(),
    ));
  it("keeps tagged snapshots", () =>
    assert.deepEqual(kept({ last: 1, keepTags: ["keep-me"] }), [
      "2026-11-24T10:00:00Z",
      "2026-11-23T08:00:00Z",
    ]));
  it("refuses an empty policy", () => assert.throws(() => applyPolicy(series, {}), /no retention rule/));
});

describe("prune", () => {
  let sourceA: string;
  let sourceB: string;
  before(async () => {
    sourceA = join(scratch, "a");
    sourceB = join(scratch, "b");
    await writeTree(sourceA, standardTree());
    await writeTree(sourceB, standardTree());
  });

  it("deletes only what no snapshot references, and restic agrees", async () => {
    const { dir, repo } = await newRepo();
    const a = await backupDirectory(repo, sourceA);
    await backupDirectory(repo, sourceB);
    const before = await dirSize(dir);
    await repo.store.delete(`snapshots/${a.id}`);
    const result = await pruneRepository(repo);
    repo.close();
    assert.ok(result.packsDeleted + result.packsRepacked > 0);
    assert.ok((await dirSize(dir)) < before * 0.75, "A's unique data is gone");

    await restic({ repo: dir, env: { RESTIC_PASSWORD: "pw" } }, ["check", "--read-data"]);
    const reopened = await Repository.open(openStore(`file://${dir}`), "pw");
    const target = join(scratch, uniqueName("out"));
    await restoreTree(reopened, (await reopened.findSnapshot("latest")).snapshot.tree, target, {
      include: sourceB,
    });
    reopened.close();
    assertSameTree(await describeTree(target), await describeTree(sourceB));
  });

  it("racing a concurrent backup loses nothing: one of them waits its turn", async () => {
    const { dir, repo } = await newRepo();
    await backupDirectory(repo, sourceA);
    for (let round = 0; round < 4; round++) {
      writeFileSync(join(sourceB, `round-${round}.txt`), `round ${round}\n`.repeat(10_000));
      const writer = await Repository.open(openStore(`file://${dir}`), "pw");
      const pruner = await Repository.open(openStore(`file://${dir}`), "pw");
      const [backup, prune] = await Promise.allSettled([
        backupDirectory(writer, sourceB),
        pruneRepository(pruner),
      ]);
      writer.close();
      pruner.close();
      for (const outcome of [backup, prune]) {
        if (outcome.status === "rejected")
          assert.ok(outcome.reason instanceof LockedError, String(outcome.reason));
      }
    }
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "pw" } }, ["check", "--read-data"]);
    const check = await Repository.open(openStore(`file://${dir}`), "pw");
    for (const { snapshot } of await check.listSnapshots()) {
      const target = join(scratch, uniqueName("out"));
      await restoreTree(check, snapshot.tree, target);
    }
    check.close();
  });

  // A prune replaces every index file. Whoever opened the repository before it, or lists
  // index/ while it runs, must not keep (or fail on) the files it replaced: restic reads the
  // index under the lock, and a file that vanishes between listing and reading was superseded.
  it("a writer that opened before the prune deduplicates against what the prune left, not what it deleted", async () => {
    const { dir, repo: first } = await newRepo();
    await backupDirectory(first, sourceA);
    const doomed = await backupDirectory(first, sourceB);
    first.close();

    const writer = await reopen(dir); // its index lists B's packs
    const pruner = await reopen(dir);
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
    const { dir, repo: first } = await newRepo();
    await backupDirectory(first, sourceA);
    const doomed = await backupDirectory(first, sourceB);
    first.close();

    const store = interruptIndexListing(openStore(`file://${dir}`), async () => {
      const pruner = await reopen(dir);
      await pruner.store.delete(`snapshots/${doomed.id}`);
      await pruneRepository(pruner);
      pruner.close();
    });
    const reader = await Repository.open(store, "pw");
    const fresh = await reopen(dir);
    assert.equal(reader.index.blobCount, fresh.index.blobCount);
    assert.deepEqual([...reader.index.packIds()].sort(), [...fresh.index.packIds()].sort());
    reader.close();
    fresh.close();
  });
});

describe("copy", () => {
  let source: string;
  before(async () => {
    source = join(scratch, "copy-source");
    await writeTree(source, standardTree());
  });

  it("copies from a restic repository into an Arca one with another password, then skips what is there", async () => {
    const from = join(scratch, uniqueName("restic-repo"));
    const r = { repo: from, env: { RESTIC_PASSWORD: "restic-pw" } };
    await restic(r, ["init"]);
    await restic(r, ["backup", source]);
    const { dir, repo: target } = await newRepo("arca-pw");
    const src = await Repository.open(openStore(`file://${from}`), "restic-pw");
    const first = await copySnapshots(src, target);
    const again = await copySnapshots(src, target);
    src.close();
    assert.equal(first.copied.length, 1);
    assert.ok(first.blobsCopied > 5);
    assert.deepEqual([again.copied.length, again.blobsCopied, again.skipped.length], [0, 0, 1]);
    const out = join(scratch, uniqueName("out"));
    await restoreTree(target, (await target.findSnapshot("latest")).snapshot.tree, out, { include: source });
    target.close();
    assertSameTree(await describeTree(out), await describeTree(source));
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "arca-pw" } }, ["check", "--read-data"]);
  });

  it("copies from Arca into a repository restic created, which restic then restores", async () => {
    const { repo: src } = await newRepo("arca-pw");
    await backupDirectory(src, source);
    const to = join(scratch, uniqueName("restic-repo"));
    const r = { repo: to, env: { RESTIC_PASSWORD: "restic-pw" } };
    await restic(r, ["init"]);
    const target = await Repository.open(openStore(`file://${to}`), "restic-pw");
    await copySnapshots(src, target);
    src.close();
    target.close();
    await restic(r, ["check", "--read-data"]);
    const [snap] = await resticSnapshots(r);
    const out = join(scratch, uniqueName("out"));
    await restic(r, ["restore", snap?.id ?? "latest", "--target", out]);
    assertSameTree(await describeTree(join(out, source)), await describeTree(source));
  });
});

describe("keys", () => {
  it("adds a password, opens with either, and removes the other one", async () => {
    const { dir } = await newRepo("first");
    const url = `file://${dir}`;
    const newPw = join(scratch, uniqueName("pw"));
    writeFileSync(newPw, "second\n");
    const as = (pw: string) => ({ ...process.env, ARCA_PASSWORD: pw });
    const added = await runArca(
      ["repo", "key", "add", "--repo", url, "--new-password-file", newPw],
      as("first"),
    );
    assert.equal(added.code, 0, added.stderr);
    const listed = await runArca(["repo", "key", "list", "--repo", url, "-o", "json"], as("second"));
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; current: boolean }>;
    assert.equal(keys.length, 2);
    const other = keys.find((k) => !k.current)?.id as string;
    const removed = await runArca(["repo", "key", "remove", "--repo", url, other.slice(0, 8)], as("second"));
    assert.equal(removed.code, 0, removed.stderr);
    const denied = await runArca(["repo", "snapshots", "--repo", url], as("first"));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /wrong password/);
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "second" } }, ["check"]);
  });
});
