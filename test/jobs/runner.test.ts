// The one way engine work runs (src/jobs): against a real file:// repository, a directory
// backup opens the location, waits out an exclusive lock when asked to, stops on its abort
// signal leaving no snapshot and no lock, keeps its log, and names the location when the
// password is wrong. restic reads what it wrote.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setMaxListeners } from "node:events";
import { noProgress, type Progress } from "../../src/common/progress.js";
import { fsBackupJob, type FsBackupOutcome } from "../../src/jobs/fs.js";
import type { LocationSource } from "../../src/jobs/location.js";
import { runJob, type JobInputs } from "../../src/jobs/runner.js";
import { RepositoryLock } from "../../src/repo/lock.js";
import { Repository } from "../../src/repo/repository.js";
import { openStore } from "../../src/storage/index.js";
import { resticSnapshots } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-jobs-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const lockFiles = (dir: string) =>
  existsSync(join(dir, "locks")) ? readdirSync(join(dir, "locks")).filter((n) => !n.startsWith(".")) : [];
const snapshotFiles = (dir: string) =>
  existsSync(join(dir, "snapshots")) ? readdirSync(join(dir, "snapshots")) : [];

/** A location in a folder of its own (no repository yet), opened with `password`. */
function location(password = "pw", name?: string): { dir: string; source: LocationSource } {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  const source: LocationSource = {
    url: `file://${dir}`,
    name,
    password: { read: async () => password, hint: "use the password the location was made with" },
  };
  return { dir, source };
}

type T = FsBackupOutcome;

/** A directory of `count` files of 64 KiB of random bytes. */
function dataDir(count: number): string {
  const dir = join(scratch, uniqueName("data"));
  mkdirSync(dir);
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `f${i}`), randomBytes(64 * 1024));
  return dir;
}

function inputs(source: LocationSource, over: Partial<JobInputs<T>> = {}) {
  const kept: { log?: string; outcome?: T } = {};
  const signal = new AbortController().signal;
  const all: JobInputs<T> = {
    location: source,
    create: true,
    log: {
      echoLevel: "silent",
      keep: async (log, outcome) => {
        kept.log = log.toString("utf8");
        kept.outcome = outcome;
      },
    },
    progress: noProgress,
    signal,
    ...over,
  };
  return { all, kept };
}

describe("runJob with a directory backup", () => {
  it("makes the repository, writes one snapshot restic reads, keeps the log, and leaves no lock", async () => {
    const { dir, source } = location();
    const data = dataDir(3);
    const made: string[] = [];
    const { all, kept } = inputs(source, { created: (repo) => made.push(repo.location) });
    const result = await runJob(all, fsBackupJob({ dir: data }));
    assert.deepEqual(made, [source.url]);
    assert.match(kept.log ?? "", /initialized a new repository at file:\/\//);
    assert.equal(kept.outcome?.id, result.id);
    assert.equal(result.snapshot.summary?.files_new, 3);
    assert.deepEqual(lockFiles(dir), []);
    const listed = await resticSnapshots({ repo: dir, env: { RESTIC_PASSWORD: "pw" } });
    assert.deepEqual(
      listed.map((s) => [s.id, s.paths]),
      [[result.id, [data]]],
    );

    // The next backup of the same path takes the first as its parent: nothing is new.
    const again = await runJob(inputs(source).all, fsBackupJob({ dir: data }));
    assert.equal(again.parent, result.id);
    assert.equal(again.snapshot.summary?.files_unmodified, 3);
  });

  it("stops when the signal aborts mid-backup: no snapshot, no lock, and the log says why", async () => {
    const { dir, source } = location();
    await runJob(inputs(source).all, fsBackupJob({ dir: dataDir(1) }));
    const before = snapshotFiles(dir);
    const abort = new AbortController();
    setMaxListeners(0, abort.signal);
    let updates = 0;
    const progress: Progress = {
      update: () => {
        if (++updates === 1) abort.abort(new Error("stopped by the test"));
      },
      warning() {},
    };
    const { all, kept } = inputs(source, {
      signal: abort.signal,
      progress,
      abortedBecause: "the test stopped the job",
    });
    await assert.rejects(runJob(all, fsBackupJob({ dir: dataDir(200) })));
    assert.ok(updates >= 1, "the backup had started");
    assert.deepEqual(snapshotFiles(dir), before, "no snapshot was written");
    assert.deepEqual(lockFiles(dir), [], "the lock was released");
    assert.equal(kept.outcome, undefined);
    assert.match(kept.log ?? "", /"level":50.*the test stopped the job/);
  });

  it("waits while another process holds the repository exclusively, and says so in the log", async () => {
    const { dir, source } = location();
    await runJob(inputs(source).all, fsBackupJob({ dir: dataDir(1) }));
    const holder = await Repository.open(openStore(source.url), "pw", { index: false });
    const lock = await RepositoryLock.acquire(holder, true);
    const released = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => lock.release());
    try {
      const { all, kept } = inputs(source, { lockWaitMs: 60_000 });
      const result = await runJob(all, fsBackupJob({ dir: dataDir(1) }));
      assert.match(kept.log ?? "", /waiting: the repository at file:\/\/\S+ is locked: an exclusive lock/);
      assert.ok(snapshotFiles(dir).includes(result.id));
    } finally {
      await released;
      holder.close();
    }
    assert.deepEqual(lockFiles(dir), []);
  });

  it("fails at once on an exclusive lock when it may not wait, naming the holder", async () => {
    const { source } = location();
    await runJob(inputs(source).all, fsBackupJob({ dir: dataDir(1) }));
    const holder = await Repository.open(openStore(source.url), "pw", { index: false });
    const lock = await RepositoryLock.acquire(holder, true);
    try {
      await assert.rejects(runJob(inputs(source).all, fsBackupJob({ dir: dataDir(1) })), (err: Error) => {
        assert.match(err.message, /is locked: an exclusive lock \S+ held by/);
        return true;
      });
    } finally {
      await lock.release();
      holder.close();
    }
  });

  it("names the location and says where the password came from when it is wrong", async () => {
    const { dir, source } = location("right", "BackupLocation shop");
    await runJob(inputs(source).all, fsBackupJob({ dir: dataDir(1) }));
    const wrong: LocationSource = {
      ...source,
      password: { read: async () => "wrong", hint: "put the right password into Secret arca/shop-password" },
    };
    const { all, kept } = inputs(wrong);
    await assert.rejects(runJob(all, fsBackupJob({ dir: dataDir(1) })), (err: Error & { hint?: string }) => {
      assert.match(err.message, new RegExp(`^BackupLocation shop: wrong password: .*file://${dir}`));
      assert.equal(err.hint, "put the right password into Secret arca/shop-password");
      return true;
    });
    assert.match(kept.log ?? "", /BackupLocation shop: wrong password/);
  });
});
