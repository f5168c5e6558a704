// Locks and partial files that killed processes leave behind, and `arca repo unlock`: Arca
// cleans up after its own crashes and restic's, and restic reads the repository afterwards.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { LockJson } from "../../src/repo/lock.js";
import { Repository } from "../../src/repo/repository.js";
import { formatTime } from "../../src/repo/time.js";
import { saveUnpacked } from "../../src/repo/unpacked.js";
import { openStore } from "../../src/storage/index.js";
import { runArca } from "../cli/run.js";
import { killWhen } from "../support/killed.js";
import { restic } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const storage = fileURLToPath(new URL("../../src/storage/index.ts", import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), "arca-locks-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const env = { ...process.env, ARCA_PASSWORD: "pw", ARCA_PASSWORD_FILE: "" };
const resticRepo = (dir: string) => ({ repo: dir, env: { RESTIC_PASSWORD: "pw" } });

const lockFiles = (dir: string) =>
  existsSync(join(dir, "locks")) ? readdirSync(join(dir, "locks")).filter((n) => !n.startsWith(".")) : [];

/** Every partial (temp) file in the repository, as paths relative to it. */
function partialFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p.split("/").at(-1)?.startsWith(".arca-tmp-"))
    .sort();
}

async function newRepo(withSnapshot?: string): Promise<{ dir: string; url: string }> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  const url = `file://${dir}`;
  const init = await runArca(["repo", "init", "--repo", url], env);
  assert.equal(init.code, 0, init.stderr);
  if (withSnapshot) {
    const backup = await runArca(["fs", "backup", "--repo", url, withSnapshot], env);
    assert.equal(backup.code, 0, backup.stderr);
  }
  return { dir, url };
}

/** A lock as another host's process writes it, through the repository's own key. */
async function writeLock(url: string, lock: Partial<LockJson> & { time: string }): Promise<string> {
  const repo = await Repository.open(openStore(url), "pw", { index: false });
  try {
    const json: LockJson = { exclusive: false, hostname: "elsewhere", username: "op", pid: 4242, ...lock };
    return await saveUnpacked(repo.store, repo.key, "locks", json, { compressed: true });
  } finally {
    repo.close();
  }
}

describe("locks and partial files left behind", () => {
  const small = join(scratch, "small");
  const big = join(scratch, "big");
  before(() => {
    mkdirSync(small);
    writeFileSync(join(small, "a.txt"), "some data\n".repeat(1000));
    // Enough data that a backup is still at work when it is killed.
    mkdirSync(big);
    writeFileSync(join(big, "random.bin"), randomBytes(64 * 1024 * 1024));
  });

  it("a killed backup's lock stops restic; the next arca command removes it, says so, and restic works again", async () => {
    const { dir, url } = await newRepo();
    const pid = await killWhen(
      process.execPath,
      ["--import", "tsx", main, "fs", "backup", "--repo", url, big],
      env,
      () => lockFiles(dir).length > 0,
    );
    assert.equal(lockFiles(dir).length, 1, "the killed backup left its lock");
    await assert.rejects(restic(resticRepo(dir), ["check"]), /already locked/);

    const listed = await runArca(["repo", "snapshots", "--repo", url], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stderr,
      new RegExp(
        `warning: removed stale lock [0-9a-f]{8} of .*@${hostname()} \\(pid ${pid}\\).*: that process no longer exists`,
      ),
    );
    assert.deepEqual(lockFiles(dir), []);
    await restic(resticRepo(dir), ["check"]);
  });

  it("`repo unlock` removes stale locks only, `--remove-all` every one, and restic reads the repository after", async () => {
    const { dir, url } = await newRepo(small);
    // restic's own lock, left by a restic backup killed mid-way on this host.
    const resticPid = await killWhen(
      "restic",
      ["-r", dir, "--no-cache", "backup", big],
      { ...process.env, RESTIC_PASSWORD: "pw" },
      // A whole lock, not restic's "<id>-tmp-…" file while it is being written.
      () => lockFiles(dir).some((n) => /^[0-9a-f]{64}$/.test(n)),
    );
    const live = await writeLock(url, { time: formatTime(new Date()), exclusive: true });
    await writeLock(url, { time: formatTime(new Date(Date.now() - 2 * 3600_000)) });
    const listLocks = async () => (await restic(resticRepo(dir), ["list", "locks"])).trim().split("\n");
    assert.equal((await listLocks()).length, 3);

    const unlocked = await runArca(["repo", "unlock", "--repo", url], env);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.match(
      unlocked.stdout,
      new RegExp(`removed lock [0-9a-f]{8} of .*@${hostname()} \\(pid ${resticPid}\\)`),
    );
    assert.match(unlocked.stdout, /removed lock [0-9a-f]{8} of op@elsewhere \(pid 4242\)/);
    assert.match(unlocked.stdout, /2 lock\(s\) removed, 1 kept/);
    assert.deepEqual(await listLocks(), [live]);

    // The live exclusive lock still holds everyone off, and the message says what to do.
    const blocked = await runArca(["repo", "snapshots", "--repo", url], env);
    assert.equal(blocked.code, 1);
    assert.match(
      blocked.stderr,
      /is locked: an exclusive lock [0-9a-f]{8} held by op@elsewhere \(pid 4242\)/,
    );
    assert.match(blocked.stderr, /arca repo unlock/);

    const all = await runArca(["repo", "unlock", "--remove-all", "--repo", url], env);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^1 lock\(s\) removed$/m);
    assert.deepEqual(lockFiles(dir), []);
    await restic(resticRepo(dir), ["check", "--read-data"]);
    const listed = await runArca(["repo", "snapshots", "--repo", url, "-o", "json"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 1);
  });

  it("prune removes the partial file of a killed writer and old leftovers, and keeps a live writer's", async () => {
    const { dir, url } = await newRepo(small);
    // A writer killed in the middle of a pack: the real file store, a body that never ends.
    const writer = `
      const { openStore } = await import(${JSON.stringify(storage)});
      const { Readable } = await import("node:stream");
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(1 << 20, 7));
      await openStore(${JSON.stringify(url)}).put("data/ab/${"ab".repeat(32)}", body);`;
    await killWhen(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", writer],
      env,
      () => partialFiles(dir).length > 0,
    );
    const killed = partialFiles(dir);
    assert.equal(killed.length, 1);
    assert.match(killed[0] as string, /^data\/ab\/\.arca-tmp-/);

    // Left by an older Arca, whose names say nothing of the writer: only its age counts.
    const old = join(dir, "data", ".arca-tmp-0123456789abcdef");
    writeFileSync(old, "partial");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    // Another host's, written a moment ago: it may be at work still.
    const elsewhere = join(dir, "index", ".arca-tmp-ffffffff-1-0011223344556677");
    writeFileSync(elsewhere, "partial");
    // This process's own, still being written.
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1 << 20, 9));
    const writing = openStore(url).put(`data/cd/${"cd".repeat(32)}`, body);
    writing.catch(() => undefined);
    while (!partialFiles(dir).some((p) => p.startsWith("data/cd/")))
      await new Promise((r) => setTimeout(r, 5));
    const live = partialFiles(dir).filter((p) => p.startsWith("data/cd/"));

    const pruned = await runArca(["repo", "prune", "--repo", url], env);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /removed 2 partial file\(s\) of interrupted writers/);
    assert.deepEqual(partialFiles(dir), [...live, "index/.arca-tmp-ffffffff-1-0011223344556677"].sort());
    assert.ok(!existsSync(old));

    body.destroy(new Error("the writer stops"));
    await assert.rejects(writing, /the writer stops/);
    assert.deepEqual(partialFiles(dir), ["index/.arca-tmp-ffffffff-1-0011223344556677"]);
    await restic(resticRepo(dir), ["check", "--read-data"]);
  });
});
