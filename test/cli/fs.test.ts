// `arca fs backup|restore` and `arca repo init|snapshots` as an operator runs them.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { assertSameTree, describeTree, standardTree, writeTree } from "../support/fixture-tree.js";
import { runArca } from "./run.js";

describe("arca fs and arca repo", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-cli-fs-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const passwordFile = join(scratch, "password");
  writeFileSync(passwordFile, "from a file\n");
  const env = { ...process.env, ARCA_PASSWORD: "", ARCA_PASSWORD_FILE: passwordFile };

  it("initialises, backs up, lists and restores, reporting progress with totals in --json", async () => {
    const source = join(scratch, "source");
    await writeTree(source, standardTree());
    const repoDir = join(scratch, "repo");
    mkdirSync(repoDir);
    const repo = `file://${repoDir}`;
    assert.equal((await runArca(["repo", "init", "--repo", repo], env)).code, 0);
    const again = await runArca(["repo", "init", "--repo", repo], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a repository already exists/);

    const backup = await runArca(["fs", "backup", "--repo", repo, "--tag", "nightly", source], env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /snapshot [0-9a-f]{8} saved/);

    const listed = JSON.parse(
      (await runArca(["repo", "snapshots", "--repo", repo, "-o", "json"], env)).stdout,
    ) as Array<{
      id: string;
      tags: string[];
      paths: string[];
    }>;
    assert.equal(listed.length, 1);
    assert.deepEqual([listed[0]?.tags, listed[0]?.paths], [["nightly"], [source]]);

    const target = join(scratch, "restored");
    const restore = await runArca(
      ["fs", "restore", "--repo", repo, "--json", `${listed[0]?.id.slice(0, 8)}:${source}`, target],
      env,
    );
    assert.equal(restore.code, 0, restore.stderr);
    const lines = restore.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; totalBytes?: number; files?: number });
    const summary = lines.find((l) => l.type === "summary");
    assert.ok(summary && (summary.files ?? 0) >= 8, `restored ${summary?.files} files`);
    const progress = lines.filter((l) => l.type === "progress");
    if (progress.length > 0)
      assert.ok((progress[0]?.totalBytes ?? 0) > 9 * 1024 * 1024, "progress knows the total");
    assertSameTree(await describeTree(target), await describeTree(source));
  });

  it("stops a backup on Ctrl-C: no snapshot, no lock left, and it says so", async () => {
    const source = join(scratch, "big");
    mkdirSync(source);
    for (let i = 0; i < 200; i++) writeFileSync(join(source, `f${i}`), randomBytes(256 * 1024));
    const repoDir = join(scratch, "interrupted");
    mkdirSync(repoDir);
    const repo = `file://${repoDir}`;
    assert.equal((await runArca(["repo", "init", "--repo", repo], env)).code, 0);
    const files = (dir: string) =>
      existsSync(join(repoDir, dir)) ? readdirSync(join(repoDir, dir)).filter((n) => !n.startsWith(".")) : [];
    const locks = () => files("locks");
    // Once its lock is written, the backup is under way.
    const stopped = await runArca(["fs", "backup", "--repo", repo, source], env, () => locks().length > 0);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /the backup of \S+ was interrupted; no snapshot was written/);
    assert.deepEqual(files("snapshots"), []);
    assert.deepEqual(locks(), []);
  });

  it("says what to do without a password", async () => {
    const { code, stderr } = await runArca(["repo", "snapshots", "--repo", `file://${scratch}`], {
      ...process.env,
      ARCA_PASSWORD: "",
      ARCA_PASSWORD_FILE: "",
    });
    assert.equal(code, 1);
    assert.match(stderr, /no repository password given/);
    assert.match(stderr, /ARCA_PASSWORD/);
  });

  it("says there is no repository at an empty location", async () => {
    const empty = join(scratch, "empty");
    mkdirSync(empty);
    const { code, stderr } = await runArca(["repo", "snapshots", "--repo", `file://${empty}`], env);
    assert.equal(code, 1);
    assert.match(stderr, /there is no repository at .* \(no config file\)/);
  });
});
