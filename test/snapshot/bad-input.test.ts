// Damaged repositories and hostile conditions: each gives an error that names the object and
// what to do, a non-zero exit, and leaves what is stored as it was.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encrypt } from "../../src/repo/crypto.js";
import { RepositoryLock, type LockJson } from "../../src/repo/lock.js";
import { Repository } from "../../src/repo/repository.js";
import { formatTime } from "../../src/repo/time.js";
import { saveUnpacked } from "../../src/repo/unpacked.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import { runArca } from "../cli/run.js";
import { assertSameTree, describeTree, standardTree, writeTree } from "../support/fixture-tree.js";
import { uniqueName } from "../support/wait.js";

const PASSWORD = "the right one";
const scratch = mkdtempSync(join(tmpdir(), "arca-bad-"));
let source: string;

after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh repository holding one backup of the standard tree. */
async function backedUp(): Promise<{ dir: string; url: string; snapshot: string; tree: string }> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  const url = `file://${dir}`;
  const repo = await Repository.init(openStore(url), PASSWORD);
  const { id, snapshot } = await backupDirectory(repo, source);
  repo.close();
  return { dir, url, snapshot: id, tree: snapshot.tree };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function snapshotOfFiles(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((f) => [f, readFileSync(f).toString("base64")]));
}

function flipByte(file: string, at?: number): number {
  const data = readFileSync(file);
  const i = at ?? randomInt(data.length);
  data[i] = (data[i] as number) ^ (1 << randomInt(8));
  writeFileSync(file, data);
  return i;
}

const cli = (args: string[], password = PASSWORD) =>
  runArca(args, { ...process.env, ARCA_PASSWORD: password });
const restoreLatest = (url: string) =>
  cli(["fs", "restore", "--repo", url, "latest", join(scratch, uniqueName("out"))]);
/** The biggest pack holds file data, so damage there is what a restore must meet. */
const largestPack = (dir: string) =>
  filesUnder(join(dir, "data")).sort((a, b) => statSync(b).size - statSync(a).size)[0] as string;

before(async () => {
  source = join(scratch, "source");
  await writeTree(source, standardTree());
});

describe("bad input", () => {
  it("a wrong password: clear error, non-zero exit, nothing changed", async () => {
    const { dir, url } = await backedUp();
    const before = snapshotOfFiles(dir);
    const { code, stderr } = await cli(["repo", "snapshots", "--repo", url], "not the password");
    assert.equal(code, 1);
    assert.match(stderr, /wrong password: it opens none of the 1 key\(s\)/);
    assert.match(stderr, /hint: check --password-file/);
    assert.deepEqual(snapshotOfFiles(dir), before);
  });

  it("a flipped bit in a pack: the restore fails naming the file, the blob and the pack", async () => {
    const { dir, url } = await backedUp();
    flipByte(largestPack(dir), 100);
    const { code, stderr } = await restoreLatest(url);
    assert.notEqual(code, 0);
    assert.match(stderr, /blob [0-9a-f]{8} in pack [0-9a-f]{8}/);
    assert.match(stderr, /authentication failed|does not match/);
    // The file as the snapshot holds it, so the operator knows what is lost.
    const named = /restoring (\/\S+) to /.exec(stderr)?.[1];
    assert.ok(named?.startsWith(`${source}/`), `the error names a file of the snapshot: ${stderr}`);
    assert.ok(statSync(named as string).isFile(), `${named} is a file of the backed-up tree`);
  });

  it("a truncated pack: the restore fails naming the pack", async () => {
    const { dir, url } = await backedUp();
    const pack = largestPack(dir);
    truncateSync(pack, Math.floor(statSync(pack).size / 2));
    const { code, stderr } = await restoreLatest(url);
    assert.notEqual(code, 0);
    assert.match(stderr, /pack [0-9a-f]{8}/);
  });

  it("a flipped bit in an index file: opening fails naming it", async () => {
    const { dir, url } = await backedUp();
    flipByte(filesUnder(join(dir, "index"))[0] as string);
    const { code, stderr } = await cli(["repo", "snapshots", "--repo", url]);
    assert.notEqual(code, 0);
    assert.match(stderr, /index file [0-9a-f]{8}: its content does not match its ID/);
  });

  // As restic: one damaged snapshot file is named and skipped, not fatal to the listing.
  it("a flipped bit in a snapshot file: listing warns naming it and goes on", async () => {
    const { dir, url } = await backedUp();
    flipByte(filesUnder(join(dir, "snapshots"))[0] as string);
    const { code, stderr } = await cli(["repo", "snapshots", "--repo", url]);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /warning: snapshot file snapshots\/[0-9a-f]{64} cannot be read and is skipped: snapshots file [0-9a-f]{8}: its content does not match its ID/,
    );
  });

  it("a missing index: the restore says which blob it cannot find and what to run", async () => {
    const { dir, url } = await backedUp();
    for (const f of filesUnder(join(dir, "index"))) rmSync(f);
    const { code, stderr } = await restoreLatest(url);
    assert.notEqual(code, 0);
    assert.match(stderr, /blob [0-9a-f]{8} is not in the index/);
  });

  it("an unknown repository version: refused, naming the version", async () => {
    const { dir, url } = await backedUp();
    const repo = await Repository.open(openStore(url), PASSWORD);
    writeFileSync(
      join(dir, "config"),
      encrypt(repo.key, Buffer.from(JSON.stringify({ ...repo.config, version: 7 }))),
    );
    repo.close();
    const { code, stderr } = await cli(["repo", "snapshots", "--repo", url]);
    assert.equal(code, 1);
    assert.match(stderr, /format version 7, which this Arca cannot read/);
  });

  it("a repository locked exclusively by another process: backup refuses, naming the holder", async () => {
    const { url } = await backedUp();
    const repo = await Repository.open(openStore(url), PASSWORD);
    // Another host's prune, still fresh.
    const lock: LockJson = {
      time: formatTime(new Date()),
      exclusive: true,
      hostname: "other-host",
      username: "ops",
      pid: 4242,
    };
    await saveUnpacked(repo.store, repo.key, "locks", lock, { compressed: true });
    repo.close();
    const { code, stderr } = await cli(["fs", "backup", "--repo", url, source]);
    assert.equal(code, 1);
    assert.match(stderr, /locked: an exclusive lock [0-9a-f]{8} held by ops@other-host \(pid 4242\)/);
  });

  it("an exclusive lock that appears while a writer's lock is unconfirmed: the writer learns before it commits", async () => {
    const { url } = await backedUp();
    const repo = await Repository.open(openStore(url), PASSWORD);
    try {
      // A resource backup starts work at once and awaits the second look before its snapshot.
      const lock = await RepositoryLock.acquire(repo, false, { confirmLater: true });
      const prune: LockJson = {
        time: formatTime(new Date()),
        exclusive: true,
        hostname: "other-host",
        username: "ops",
        pid: 4242,
      };
      await saveUnpacked(repo.store, repo.key, "locks", prune, { compressed: true });
      await assert.rejects(lock.confirmed, /locked: an exclusive lock [0-9a-f]{8} held by ops@other-host/);
      await lock.release();
    } finally {
      repo.close();
    }
  });

  it("a stale lock (its process is gone) does not block", async () => {
    const { url } = await backedUp();
    const repo = await Repository.open(openStore(url), PASSWORD);
    const { hostname } = await import("node:os");
    const dead: LockJson = {
      time: formatTime(new Date()),
      exclusive: true,
      hostname: hostname(),
      username: "x",
      pid: 2 ** 22 + 7,
    };
    await saveUnpacked(repo.store, repo.key, "locks", dead, { compressed: true });
    const lock = await RepositoryLock.acquire(repo, false);
    await lock.release();
    repo.close();
  });

  it(
    "a full disk during restore: the error names the file and says to free space",
    { skip: process.getuid?.() !== 0 ? "mounting a small tmpfs needs root" : false },
    async () => {
      const { url, tree } = await backedUp();
      const mount = join(scratch, uniqueName("tiny"));
      mkdirSync(mount);
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
      try {
        const repo = await Repository.open(openStore(url), PASSWORD);
        try {
          await assert.rejects(
            restoreTree(repo, tree, mount, { include: source }),
            (err: Error & { hint?: string }) => {
              return /restoring .*: .*ENOSPC/.test(err.message) && /free space/.test(err.hint ?? "");
            },
          );
        } finally {
          repo.close();
        }
      } finally {
        execFileSync("umount", [mount]);
      }
    },
  );

  it("random corruption: every flipped byte is detected or harmless, never silently restored", async () => {
    const { dir, url, tree } = await backedUp();
    const expected = await describeTree(source);
    const files = filesUnder(dir).filter((f) => !f.includes("/keys/") && !f.endsWith("/config"));
    let detected = 0;
    for (let round = 0; round < 12; round++) {
      const file = files[randomInt(files.length)] as string;
      const original = readFileSync(file);
      flipByte(file);
      const target = join(scratch, uniqueName("out"));
      try {
        const repo = await Repository.open(openStore(url), PASSWORD);
        try {
          await restoreTree(repo, tree, target, { include: source });
        } finally {
          repo.close();
        }
        // Restored without complaint: then it must be exactly right (the flip hit bytes
        // this restore never reads, such as a pack header).
        assertSameTree(await describeTree(target), expected, `flip in ${file} went unnoticed`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        detected++;
      } finally {
        writeFileSync(file, original);
        rmSync(target, { recursive: true, force: true });
      }
    }
    assert.ok(detected > 0, "at least some flips hit data the restore reads");
  });
});
