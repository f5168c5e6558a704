// An incomplete index: prune refuses it and names what is lacking, `repo repair index` rebuilds
// it from the packs (restic checks the result, and Arca reads restic's), and `check` tells
// truncated packs and needed unindexed packs apart from garbage. Real file:// repositories.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkRepository } from "../../src/repo/check.js";
import { fileKey } from "../../src/repo/layout.js";
import { IncompleteIndexError, pruneRepository } from "../../src/repo/prune.js";
import { repairIndex } from "../../src/repo/repair-index.js";
import { listIds, listPacks, Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import { runArca } from "../cli/run.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { assertSameTree, describeTree, writeTree } from "../support/fixture-tree.js";
import { restic } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-index-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const env = { ...process.env, ARCA_PASSWORD: "pw" };
const resticOf = (dir: string) => ({ repo: dir, env: { RESTIC_PASSWORD: "pw" } });
const open = (dir: string) => Repository.open(openStore(`file://${dir}`), "pw");

/** A directory of fresh random data (nothing in it deduplicates against another). */
async function source(files: Record<string, number>): Promise<string> {
  const dir = join(scratch, uniqueName("src"));
  await writeTree(
    dir,
    Object.fromEntries(
      Object.entries(files).map(([name, size]) => [name, { kind: "file", bytes: randomBytes(size) }]),
    ),
  );
  return dir;
}

async function newRepo(): Promise<{ dir: string; url: string }> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  (await Repository.init(openStore(`file://${dir}`), "pw")).close();
  return { dir, url: `file://${dir}` };
}

async function backUp(dir: string, src: string): Promise<string> {
  const repo = await open(dir);
  try {
    return (await backupDirectory(repo, src)).id;
  } finally {
    repo.close();
  }
}

const indexFiles = (dir: string) => readdirSync(join(dir, "index")).sort();
const packFiles = (dir: string) =>
  readdirSync(join(dir, "data"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

/** Replaces the index with one of the tree packs alone: every data blob is then lacking. */
async function indexOnlyTrees(dir: string): Promise<void> {
  const repo = await open(dir);
  const trees = [...repo.index.packContents()].filter(([, blobs]) => blobs[0]?.type === "tree");
  for (const file of indexFiles(dir)) rmSync(join(dir, "index", file));
  await repo.writeIndex(trees.map(([id, blobs]) => ({ id, blobs })));
  repo.close();
}

async function restoresLike(dir: string, snapshot: string, src: string): Promise<void> {
  const repo = await open(dir);
  const out = join(scratch, uniqueName("out"));
  try {
    await restoreTree(repo, (await repo.findSnapshot(snapshot)).snapshot.tree, out, { include: src });
  } finally {
    repo.close();
  }
  assertSameTree(await describeTree(out), await describeTree(src));
}

describe("prune with an incomplete index", () => {
  it("refuses, naming the snapshot and blobs, and `repo repair index` is the way out", async () => {
    const { dir, url } = await newRepo();
    const first = await source({ "a.bin": 3_000_000, "b.txt": 100 });
    await backUp(dir, first);
    const [firstIndex] = indexFiles(dir);
    writeFileSync(join(first, "c.bin"), randomBytes(2_000_000));
    const latest = await backUp(dir, first); // shares a.bin and b.txt with the first
    rmSync(join(dir, "index", firstIndex as string));
    const packsBefore = packFiles(dir);

    const pruned = await runArca(["repo", "forget", "--repo", url, "--keep-last", "1", "--prune"], env);
    assert.equal(pruned.code, 1, pruned.stdout);
    assert.match(pruned.stderr, /prune refused, nothing was deleted: the index is not complete/);
    assert.match(pruned.stderr, new RegExp(`snapshots ${latest.slice(0, 8)};`));
    assert.match(pruned.stderr, /blob\(s\) that 1 snapshot\(s\) need are in no index file/);
    assert.match(pruned.stderr, /arca repo repair index/);
    assert.deepEqual(packFiles(dir), packsBefore, "no pack was deleted");

    const check = await runArca(["repo", "check", "--repo", url], env);
    assert.equal(check.code, 1);
    const needed = check.stdout.split("\n").filter((l) => /holds \d+ blob\(s\) that snapshots need/.test(l));
    assert.equal(needed.length, 1, check.stdout);
    assert.doesNotMatch(needed[0] as string, /prune removes it/);
    assert.match(
      check.stdout,
      /hint: the index lacks \d+ blob\(s\) that snapshots need.*arca repo repair index/,
    );

    const repaired = await runArca(["repo", "repair", "index", "--repo", url], env);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(
      repaired.stdout,
      /new index: \d+ packs, \d+ blobs \(\d+ pack headers read\); 1 old index file\(s\) removed/,
    );
    assert.deepEqual(packFiles(dir), packsBefore, "repair deletes no pack");
    await restic(resticOf(dir), ["check", "--read-data"]);

    const again = await runArca(["repo", "prune", "--repo", url], env);
    assert.equal(again.code, 0, again.stderr);
    await restic(resticOf(dir), ["check", "--read-data"]);
    await restoresLike(dir, latest, first);
  });

  it("names every snapshot that needs a lacking blob, also where they share trees", async () => {
    const { dir } = await newRepo();
    const src = await source({ "shared.bin": 100_000 }); // one chunk
    const a = await backUp(dir, src);
    const b = await backUp(dir, src); // the file's directory is one tree in both
    await indexOnlyTrees(dir);
    const repo = await open(dir);
    try {
      await assert.rejects(pruneRepository(repo), (err: unknown) => {
        assert.ok(err instanceof IncompleteIndexError, String(err));
        assert.match(err.message, /1 blob\(s\) that 2 snapshot\(s\) need/);
        for (const id of [a, b]) assert.match(err.message, new RegExp(id.slice(0, 8)));
        return true;
      });
      // A dry run refuses as well: it would have promised to delete needed packs.
      await assert.rejects(pruneRepository(repo, { dryRun: true }), IncompleteIndexError);
    } finally {
      repo.close();
    }
  });

  it("lists a few blobs and a count, not every one", async () => {
    const { dir } = await newRepo();
    const src = await source(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, 5000])));
    await backUp(dir, src);
    await indexOnlyTrees(dir);
    const pruner = await open(dir);
    try {
      await assert.rejects(
        pruneRepository(pruner),
        /12 blob\(s\) that 1 snapshot\(s\) need .*blobs (\w{8}, ){4}\w{8} and 7 more\)/,
      );
    } finally {
      pruner.close();
    }
  });
});

describe("prune with a pack missing from storage", () => {
  it("refuses when a snapshot needs the pack, naming it", async () => {
    const { dir, url } = await newRepo();
    const src = await source({ "a.bin": 2_000_000 });
    const snap = await backUp(dir, src);
    const repo = await open(dir);
    const [dataPack] = [...repo.index.packContents()].find(([, blobs]) => blobs[0]?.type === "data") ?? [];
    repo.close();
    rmSync(join(dir, "data", (dataPack as string).slice(0, 2), dataPack as string));
    const indexBefore = indexFiles(dir);

    const pruned = await runArca(["repo", "prune", "--repo", url], env);
    assert.equal(pruned.code, 1);
    assert.match(
      pruned.stderr,
      new RegExp(
        `pack\\(s\\) ${(dataPack as string).slice(0, 8)} are in the index but missing from storage, and 1 snapshot\\(s\\) need`,
      ),
    );
    assert.match(pruned.stderr, new RegExp(`snapshots ${snap.slice(0, 8)}`));
    assert.deepEqual(indexFiles(dir), indexBefore, "the index is left as it was");

    const check = await runArca(["repo", "check", "--repo", url], env);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout,
      new RegExp(`error: pack ${(dataPack as string).slice(0, 8)} is in the index but missing from storage`),
    );
    assert.match(check.stdout, /hint: 1 pack\(s\) are missing from storage: put back a copy if there is one/);
  });

  it("goes on when no snapshot needs it, says so by name, and leaves it out of the index", async () => {
    const { dir, url } = await newRepo();
    const gone = await source({ "gone.bin": 2_000_000 });
    const kept = await source({ "kept.bin": 2_000_000 });
    const forgotten = await backUp(dir, gone);
    const first = await open(dir);
    const [lostPack] = [...first.index.packContents()].find(([, blobs]) => blobs[0]?.type === "data") ?? [];
    first.close();
    const latest = await backUp(dir, kept);
    rmSync(join(dir, "snapshots", forgotten));
    rmSync(join(dir, "data", (lostPack as string).slice(0, 2), lostPack as string));

    const pruned = await runArca(["repo", "prune", "--repo", url], env);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(
      pruned.stderr,
      new RegExp(
        `pack ${(lostPack as string).slice(0, 8)} is in the index but missing from storage; no snapshot needs its blobs`,
      ),
    );
    await restic(resticOf(dir), ["check", "--read-data"]);
    await restoresLike(dir, latest, kept);
  });
});

describe("repo repair index", () => {
  it("rebuilds a restic repository's index that restic then accepts with check --read-data", async () => {
    const dir = join(scratch, uniqueName("restic-repo"));
    const r = resticOf(dir);
    await restic(r, ["init"]);
    const src = await source({ "one.bin": 2_500_000, "two.txt": 300 });
    await restic(r, ["backup", src]);
    writeFileSync(join(src, "three.bin"), randomBytes(1_000_000));
    await restic(r, ["backup", src]);
    for (const file of indexFiles(dir)) rmSync(join(dir, "index", file));

    const repo = await open(dir);
    const result = await repairIndex(repo);
    repo.close();
    assert.equal(result.packsRead, result.packs);
    assert.deepEqual(result.unreadable, []);
    await restic(r, ["check", "--read-data"]);
    const out = join(scratch, uniqueName("out"));
    await restic(r, ["restore", "latest", "--target", out]);
    assertSameTree(await describeTree(join(out, src)), await describeTree(src));
  });

  it("Arca reads the index that restic's rebuild-index wrote", async () => {
    const { dir } = await newRepo();
    const src = await source({ "one.bin": 2_500_000, "two.txt": 300 });
    await backUp(dir, src);
    writeFileSync(join(src, "three.bin"), randomBytes(1_000_000));
    const latest = await backUp(dir, src);
    rmSync(join(dir, "index", indexFiles(dir)[0] as string));
    await restic(resticOf(dir), ["rebuild-index"]);

    const repo = await open(dir);
    const checked = await checkRepository(repo, { readData: true });
    repo.close();
    assert.deepEqual(checked.errors, []);
    await restoresLike(dir, latest, src);
  });

  it("replaces a damaged index file, and reports a pack whose header cannot be read without deleting it", async () => {
    const { dir, url } = await newRepo();
    const src = await source({ "one.bin": 1_500_000 });
    await backUp(dir, src);
    const [damaged] = indexFiles(dir);
    const indexPath = join(dir, "index", damaged as string);
    writeFileSync(indexPath, randomBytes(statSync(indexPath).size));
    // An unindexed pack whose last bytes are garbage: its header cannot be read.
    const stray = "ab".repeat(32);
    mkdirSync(join(dir, "data", "ab"), { recursive: true });
    writeFileSync(join(dir, "data", "ab", stray), randomBytes(5000));

    const plain = await runArca(["repo", "snapshots", "--repo", url], env);
    assert.equal(plain.code, 1, "a damaged index file stops other commands");
    const repaired = await runArca(["repo", "repair", "index", "--repo", url], env);
    assert.equal(repaired.code, 1, repaired.stdout);
    assert.match(
      repaired.stdout,
      new RegExp(`replaced damaged index file ${(damaged as string).slice(0, 8)}`),
    );
    assert.match(repaired.stderr, /warning: pack abababab: .*left in place, not indexed/);
    assert.match(
      repaired.stdout,
      /1 pack\(s\) could not be read and are not indexed \(they stay in storage\): abababab/,
    );
    assert.ok(packFiles(dir).includes(stray), "the unreadable pack is still there");
    assert.ok(!indexFiles(dir).includes(damaged as string), "the damaged index file is replaced");
    rmSync(join(dir, "data", "ab", stray)); // restic reads every pack in data/
    await restic(resticOf(dir), ["check", "--read-data"]);
  });

  it("reads a header larger than its first read of the pack's tail (2,500 small blobs)", async () => {
    const { dir } = await newRepo();
    const src = await source(Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, 64])));
    const snap = await backUp(dir, src);
    const before = await open(dir);
    const biggest = Math.max(...[...before.index.packContents().values()].map((blobs) => blobs.length));
    before.close();
    assert.ok(biggest * 41 > 64 * 1024, `a header of ${biggest} entries is past the first 64 KiB read`);
    for (const file of indexFiles(dir)) rmSync(join(dir, "index", file));

    const repo = await open(dir);
    const result = await repairIndex(repo);
    repo.close();
    assert.deepEqual(result.unreadable, []);
    assert.equal(result.packsRead, result.packs, "with no index, every pack's header is read");
    await restic(resticOf(dir), ["check", "--read-data"]);
    await restoresLike(dir, snap, src);
  });

  it("writes the new index before it removes an old one", async () => {
    const { dir } = await newRepo();
    await backUp(dir, await source({ "one.bin": 500_000 }));
    const repo = await open(dir);
    const old = await listIds(repo.store, "index");
    const order: string[] = [];
    const store = repo.store;
    const put = store.put.bind(store);
    const del = store.delete.bind(store);
    store.put = (key, ...rest) => (order.push(`put ${key.split("/")[0]}`), put(key, ...rest));
    store.delete = (key, ...rest) => (order.push(`delete ${key.split("/")[0]}`), del(key, ...rest));
    await repairIndex(repo, { readAllPacks: true });
    repo.close();
    const writes = order.filter((o) => o.endsWith("index"));
    assert.deepEqual(writes, ["put index", ...old.map(() => "delete index")]);
    assert.ok(!order.includes("delete data"), "no pack is deleted");
  });
});

describe("check compares pack sizes with the index", () => {
  it("finds a truncated pack without --read-data, as restic does", async () => {
    const { dir, url } = await newRepo();
    await backUp(dir, await source({ "one.bin": 1_500_000 }));
    const packs = await listPacks(openStore(url));
    const [pack, size] = [...packs].sort((a, b) => b[1] - a[1])[0] as [string, number];
    truncateSync(join(dir, "data", pack.slice(0, 2), pack), size - 100);

    const check = await runArca(["repo", "check", "--repo", url], env);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout,
      new RegExp(
        `error: pack ${pack.slice(0, 8)}: ${size - 100} bytes in storage, but its index entry adds up to ${size}`,
      ),
    );
    await assert.rejects(
      restic(resticOf(dir), ["check"]),
      new RegExp(`pack ${pack}: unexpected file size: got ${size - 100}, expected ${size}`),
    );
  });

  it("a healthy repository with duplicate blobs in two packs passes both checks", async () => {
    const { dir } = await newRepo();
    const src = await source({ "one.bin": 800_000 });
    // Two writers that opened before either wrote store the same blobs twice.
    const a = await open(dir);
    const b = await open(dir);
    await Promise.all([backupDirectory(a, src), backupDirectory(b, src)]);
    a.close();
    b.close();
    const repo = await open(dir);
    const checked = await checkRepository(repo);
    repo.close();
    assert.deepEqual(checked.errors, []);
    await restic(resticOf(dir), ["check"]);
  });
});

describe("on S3 (MinIO)", () => {
  let env: TestEnvironment;
  let bucket: string;
  before(async () => {
    env = await testEnvironment();
    bucket = await env.s3.createBucket();
  });
  after(() => env?.stop());

  it("prune refuses the incomplete index, and repair index rebuilds it from ranged reads of the packs", async () => {
    const prefix = uniqueName("repo");
    const host = env.s3.endpoint;
    const url = `s3://${bucket}/${prefix}?region=${env.s3.region}&endpoint=${host}&forcePathStyle=true`;
    const keys = { AWS_ACCESS_KEY_ID: env.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey };
    const r = {
      repo: `s3:${host}/${bucket}/${prefix}`,
      env: { ...keys, RESTIC_PASSWORD: "pw", AWS_DEFAULT_REGION: env.s3.region },
    };
    const cliEnv = { ...process.env, ...keys, ARCA_PASSWORD: "pw" };
    const src = await source({ "a.bin": 1_500_000, "b.txt": 200 });
    await restic(r, ["init"]);
    await restic(r, ["backup", src]);
    const store = openStore(url, {
      s3Credentials: { accessKeyId: keys.AWS_ACCESS_KEY_ID, secretAccessKey: keys.AWS_SECRET_ACCESS_KEY },
    });
    for (const id of await listIds(store, "index")) await store.delete(fileKey("index", id));
    const packsBefore = [...(await listPacks(store)).keys()].sort();

    const pruned = await runArca(["repo", "prune", "--repo", url], cliEnv);
    assert.equal(pruned.code, 1, pruned.stdout);
    assert.match(pruned.stderr, /the index is not complete/);
    const repaired = await runArca(["repo", "repair", "index", "--repo", url], cliEnv);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.deepEqual([...(await listPacks(store)).keys()].sort(), packsBefore, "no pack was deleted");
    store.close();
    await restic(r, ["check", "--read-data"]);
    const out = join(scratch, uniqueName("out"));
    await restic(r, ["restore", "latest", "--target", out]);
    assertSameTree(await describeTree(join(out, src)), await describeTree(src));
  });
});
