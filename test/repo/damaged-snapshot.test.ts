// One damaged snapshot file does not hide the others (as with restic): listing, `latest`,
// check and forget name it and go on; prune, which cannot tell what data it needs, refuses.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runArca } from "../cli/run.js";
import { restic } from "../support/restic.js";

describe("a damaged snapshot file", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-damaged-snap-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const env = { ...process.env, ARCA_PASSWORD: "pw", ARCA_PASSWORD_FILE: "" };
  const dir = join(scratch, "repo");
  const url = `file://${dir}`;
  const source = join(scratch, "source");
  const arca = async (...args: string[]) => runArca([...args, "--repo", url], env);
  const snapshotIds = () =>
    existsSync(join(dir, "snapshots")) ? readdirSync(join(dir, "snapshots")).sort() : [];
  const packFiles = () =>
    (readdirSync(join(dir, "data"), { recursive: true }) as string[])
      .filter((p) => /\/[0-9a-f]{64}$/.test(p))
      .sort();

  it("is named and skipped by snapshots, latest, check and forget; prune refuses until it is dealt with", async () => {
    mkdirSync(dir);
    mkdirSync(source);
    assert.equal((await arca("repo", "init")).code, 0);
    // Three versions of one file, each its own snapshot; the newest is the one damaged.
    const ids: string[] = [];
    for (const version of ["first\n", "second\n", "third\n"]) {
      writeFileSync(join(source, "file.txt"), version.repeat(5000));
      const before = new Set(snapshotIds());
      const backup = await arca("fs", "backup", source);
      assert.equal(backup.code, 0, backup.stderr);
      ids.push(snapshotIds().find((id) => !before.has(id)) as string);
    }
    const [, second, damaged] = ids as [string, string, string];
    const file = join(dir, "snapshots", damaged);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    writeFileSync(file, bytes);
    const named = new RegExp(`snapshot file snapshots/${damaged} cannot be read`);

    const listed = await arca("repo", "snapshots", "-o", "json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((s) => s.id),
      ids.slice(0, 2),
    );
    assert.match(listed.stderr, named);

    // `latest` is the newest snapshot that can be read.
    const target = join(scratch, "restored");
    const restored = await arca("fs", "restore", "latest", target);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`restored snapshot ${second.slice(0, 8)}`));
    assert.match(restored.stderr, named);
    assert.equal(readFileSync(join(target, source, "file.txt"), "utf8"), "second\n".repeat(5000));

    const checked = await arca("repo", "check");
    assert.equal(checked.code, 1);
    assert.match(checked.stdout, new RegExp(`error: snapshot file snapshots/${damaged} cannot be read`));

    // forget applies the policy to the snapshots it can read and leaves the damaged file alone.
    const forgot = await arca("repo", "forget", "--keep-last", "1", "-o", "json");
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.match(forgot.stderr, named);
    assert.deepEqual(snapshotIds(), [second, damaged].sort());

    // prune cannot know what the damaged snapshot needs: it deletes nothing and says why.
    const packs = packFiles();
    const refused = await arca("repo", "prune");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /prune refused, nothing was deleted: 1 snapshot file\(s\) cannot be read/);
    assert.match(refused.stderr, new RegExp(`snapshots/${damaged}`));
    assert.match(refused.stderr, /hint: repair that file .* or, if the snapshot is lost, remove/);
    assert.deepEqual(packFiles(), packs);

    // Once the operator removes it, prune goes ahead, and restic agrees with the result.
    rmSync(file);
    const pruned = await arca("repo", "prune");
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.ok(packFiles().length < packs.length, "the forgotten snapshots' data is gone");
    await restic({ repo: dir, env: { RESTIC_PASSWORD: "pw" } }, ["check", "--read-data"]);
  });
});
