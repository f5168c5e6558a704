// What a file node records is what was stored and what the file system said: times to the
// nanosecond through Arca and restic both ways, and a file that changes size while it is read.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ProgressCounts } from "../../src/common/progress.js";
import { Repository } from "../../src/repo/repository.js";
import { parseTimeNs } from "../../src/repo/time.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { nodeAt } from "../../src/snapshot/reader.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import { restic, type ResticRepo } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const PASSWORD = "pw";
const scratch = mkdtempSync(join(tmpdir(), "arca-metadata-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function freshRepo(): { dir: string; url: string; restic: ResticRepo } {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  return { dir, url: `file://${dir}`, restic: { repo: dir, env: { RESTIC_PASSWORD: PASSWORD } } };
}

/** Sets a path's times (its own, for a symlink) to a moment given to the nanosecond. */
function touch(path: string, at: string): void {
  execFileSync("touch", ["-h", "-d", at, path]);
}

/** mtime and atime in nanoseconds, as the file system holds them. */
function times(path: string): { mtimeNs: bigint; atimeNs: bigint } {
  const st = lstatSync(path, { bigint: true });
  return { mtimeNs: st.mtimeNs, atimeNs: st.atimeNs };
}

describe("times", () => {
  const source = join(scratch, "timed");
  // Nanoseconds no double of seconds carries: 2026 needs 31 bits before the point.
  const FILE_TIME = "@1796000000.123456789";
  const LINK_TIME = "@1796000001.987654321";
  const DIR_TIME = "@1796000002.000000001";
  const ns = (at: string) => BigInt(at.slice(1).replace(".", ""));

  function makeSource(): void {
    mkdirSync(join(source, "dir"), { recursive: true });
    writeFileSync(join(source, "dir", "file"), "tick");
    symlinkSync("file", join(source, "dir", "link"));
    touch(join(source, "dir", "file"), FILE_TIME);
    touch(join(source, "dir", "link"), LINK_TIME);
    touch(join(source, "dir"), DIR_TIME);
  }

  /** What a restore must give back: mtimes exact, atimes as recorded (restic records mtime). */
  function assertTimes(root: string): void {
    for (const [path, at] of [
      ["dir/file", FILE_TIME],
      ["dir/link", LINK_TIME],
      ["dir", DIR_TIME],
    ] as const)
      assert.deepEqual(times(join(root, path)), { mtimeNs: ns(at), atimeNs: ns(at) }, path);
  }

  it("back up, restore and stat: every nanosecond of mtime and atime comes back", async () => {
    makeSource();
    const repo = freshRepo();
    const r = await Repository.init(openStore(repo.url), PASSWORD);
    const { snapshot } = await backupDirectory(r, source);
    const file = await nodeAt(r, snapshot.tree, `${source}/dir/file`);
    assert.equal(parseTimeNs(file?.mtime as string), ns(FILE_TIME));
    const target = join(scratch, uniqueName("out"));
    await restoreTree(r, snapshot.tree, target, { include: source });
    r.close();
    assertTimes(target);

    // restic sees the same times, and restores them.
    const listed = (await restic(repo.restic, ["ls", "--json", "latest", `${source}/dir`]))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { path?: string; mtime?: string });
    const mtimeOf = (p: string) => parseTimeNs(listed.find((n) => n.path === p)?.mtime as string);
    assert.equal(mtimeOf(`${source}/dir/file`), ns(FILE_TIME));
    assert.equal(mtimeOf(`${source}/dir/link`), ns(LINK_TIME));
    const byRestic = join(scratch, uniqueName("out"));
    await restic(repo.restic, ["restore", "latest", "--target", byRestic]);
    assertTimes(join(byRestic, source));
  });

  it("restic's snapshot restores through Arca to the same nanoseconds", async () => {
    const repo = freshRepo();
    rmSync(repo.dir, { recursive: true });
    await restic(repo.restic, ["init"]);
    await restic(repo.restic, ["backup", source]);
    const r = await Repository.open(openStore(repo.url), PASSWORD);
    const target = join(scratch, uniqueName("out"));
    await restoreTree(r, (await r.findSnapshot("latest")).snapshot.tree, target, { include: source });
    r.close();
    assertTimes(target);
  });
});

describe("a file that changes size while it is backed up", () => {
  // Larger than the read buffer (16 MiB), so that the archiver reports progress between reads.
  const SIZE = 24 * 1024 * 1024;

  /** Backs up a directory holding one big file, calling `change` once its first part is read. */
  async function backUpWhile(change: (path: string) => void) {
    const dir = join(scratch, uniqueName("changing"));
    mkdirSync(dir);
    const path = join(dir, "growing.log");
    writeFileSync(path, randomBytes(SIZE));
    const repo = freshRepo();
    const r = await Repository.init(openStore(repo.url), PASSWORD);
    let changed = false;
    const warnings: string[] = [];
    const progress = {
      update(counts: ProgressCounts) {
        if (!changed && counts.current === path) {
          changed = true;
          change(path);
        }
      },
      warning: (message: string) => warnings.push(message),
    };
    const result = await backupDirectory(r, dir, { progress });
    const node = await nodeAt(r, result.snapshot.tree, path);
    const stored = (node?.content ?? []).reduce((sum, id) => sum + (r.blobSize(id) ?? 0), 0);
    const target = join(scratch, uniqueName("out"));
    await restoreTree(r, result.snapshot.tree, target, { include: dir });
    r.close();
    assert.ok(changed, "the file was changed during the backup");
    return { path, node, stored, warnings, result, repo, restored: join(target, "growing.log") };
  }

  it("grows: the node's size is the bytes stored, with a warning naming the file", async () => {
    const extra = 1024 * 1024;
    const { path, node, stored, warnings, result, repo, restored } = await backUpWhile((p) =>
      appendFileSync(p, Buffer.alloc(extra, 1)),
    );
    assert.equal(stored, SIZE + extra);
    assert.equal(node?.size, stored);
    assert.deepEqual(warnings, result.warnings);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] as string,
      new RegExp(`^${path}: size changed while it was read, from ${SIZE} to ${SIZE + extra} bytes`),
    );
    assert.deepEqual(readFileSync(restored), readFileSync(path));
    await restic(repo.restic, ["check", "--read-data"]);
    const listed = (await restic(repo.restic, ["ls", "--json", "latest", path])).trim().split("\n");
    assert.equal((JSON.parse(listed.at(-1) as string) as { size: number }).size, SIZE + extra);
  });

  it("shrinks: the node's size is the bytes stored, with a warning naming the file", async () => {
    const kept = 20 * 1024 * 1024;
    const { path, node, stored, warnings, restored } = await backUpWhile((p) => truncateSync(p, kept));
    assert.equal(stored, kept);
    assert.equal(node?.size, kept);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] as string,
      new RegExp(`^${path}: size changed while it was read, from ${SIZE} to ${kept} bytes`),
    );
    assert.equal(lstatSync(restored).size, kept);
    assert.deepEqual(readFileSync(restored), readFileSync(path));
  });
});
