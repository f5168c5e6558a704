// Passwords mean the same to Arca and to restic: a password file loses its surrounding white
// space (and a byte-order mark) in both, ARCA_PASSWORD is taken as it is as RESTIC_PASSWORD is,
// and an empty password is refused. Checked both ways against the real restic.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { restic, resticSnapshots, type ResticRepo } from "../support/restic.js";
import { runArca } from "./run.js";

describe("repository passwords, as restic reads them", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-cli-password-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const source = join(scratch, "source");
  mkdirSync(source);
  writeFileSync(join(source, "data.txt"), "some data\n");

  // The password ends in a space; the file, like most, in a newline.
  const passwordFile = join(scratch, "password");
  writeFileSync(passwordFile, "correct horse \n");
  const noPassword = { ...process.env, ARCA_PASSWORD: "", ARCA_PASSWORD_FILE: "" };
  const withFile = (file: string) => ({ ...noPassword, ARCA_PASSWORD_FILE: file });
  const resticWith = (dir: string, env: NodeJS.ProcessEnv): ResticRepo => ({ repo: dir, env });
  const newDir = (name: string) => {
    const dir = join(scratch, name);
    mkdirSync(dir);
    return dir;
  };

  it("restic opens, with the same file, a repository Arca made and backed up into", async () => {
    const dir = newDir("arca-made");
    const init = await runArca(
      ["repo", "init", "--repo", `file://${dir}`, "--password-file", passwordFile],
      noPassword,
    );
    assert.equal(init.code, 0, init.stderr);
    const backup = await runArca(["fs", "backup", "--repo", `file://${dir}`, source], withFile(passwordFile));
    assert.equal(backup.code, 0, backup.stderr);

    const snapshots = await resticSnapshots(resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile }));
    assert.deepEqual(
      snapshots.map((s) => s.paths),
      [[source]],
    );
    await restic(resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile }), ["check"]);
    // What both read from the file is the text without the space.
    await restic(resticWith(dir, { RESTIC_PASSWORD: "correct horse" }), ["cat", "config"]);
  });

  it("Arca opens, with the same file, a repository restic made and backed up into", async () => {
    const dir = newDir("restic-made");
    const r = resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile });
    await restic(r, ["init"]);
    await restic(r, ["backup", source]);
    const [made] = await resticSnapshots(r);

    for (const env of [withFile(passwordFile), noPassword]) {
      const args = ["repo", "snapshots", "--repo", `file://${dir}`, "-o", "json"];
      if (env === noPassword) args.push("--password-file", passwordFile);
      const listed = await runArca(args, env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        (JSON.parse(listed.stdout) as Array<{ id: string }>).map((s) => s.id),
        [made?.id],
      );
    }
  });

  it("reads a file with a byte-order mark, CRLF and surrounding white space as restic does", async () => {
    const dir = newDir("bom");
    const r = resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile });
    await restic(r, ["init"]);
    const odd = join(scratch, "password-windows");
    writeFileSync(odd, "\ufeff\t correct horse \r\n\r\n");
    await restic(resticWith(dir, { RESTIC_PASSWORD_FILE: odd }), ["cat", "config"]);
    const listed = await runArca(["repo", "snapshots", "--repo", `file://${dir}`], withFile(odd));
    assert.equal(listed.code, 0, listed.stderr);
    const utf16 = join(scratch, "password-utf16");
    writeFileSync(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("correct horse\r\n", "utf16le")]),
    );
    await restic(resticWith(dir, { RESTIC_PASSWORD_FILE: utf16 }), ["cat", "config"]);
    const fromUtf16 = await runArca(["repo", "snapshots", "--repo", `file://${dir}`], withFile(utf16));
    assert.equal(fromUtf16.code, 0, fromUtf16.stderr);
  });

  it("takes ARCA_PASSWORD as it is, as restic takes RESTIC_PASSWORD", async () => {
    const dir = newDir("from-env");
    const init = await runArca(["repo", "init", "--repo", `file://${dir}`], {
      ...noPassword,
      ARCA_PASSWORD: "correct horse ",
    });
    assert.equal(init.code, 0, init.stderr);
    await restic(resticWith(dir, { RESTIC_PASSWORD: "correct horse " }), ["cat", "config"]);
    // The file means "correct horse", which is another password: both tools say so.
    await assert.rejects(
      restic(resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile }), ["cat", "config"]),
      /wrong password/,
    );
    const fromFile = await runArca(["repo", "snapshots", "--repo", `file://${dir}`], withFile(passwordFile));
    assert.equal(fromFile.code, 1);
    assert.match(fromFile.stderr, /wrong password/);
  });

  it("refuses an empty password at init, as restic does, and leaves the location empty", async () => {
    const dir = newDir("empty-password");
    const blank = join(scratch, "password-blank");
    writeFileSync(blank, " \n\n");
    await assert.rejects(
      restic(resticWith(dir, { RESTIC_PASSWORD_FILE: blank }), ["init"]),
      /empty password/,
    );
    const init = await runArca(["repo", "init", "--repo", `file://${dir}`], withFile(blank));
    assert.equal(init.code, 1);
    assert.match(init.stderr, new RegExp(`password file ${blank} holds no password`));
    assert.match(init.stderr, /hint: .*restic cannot open a repository with an empty password/);
    assert.deepEqual(readdirSync(dir), [], "nothing was written");
  });

  it("repo init makes a missing directory, as restic init does; other commands do not", async () => {
    const dir = join(scratch, "not-yet", "made");
    const snapshots = await runArca(["repo", "snapshots", "--repo", `file://${dir}`], withFile(passwordFile));
    assert.equal(snapshots.code, 1);
    assert.match(snapshots.stderr, /there is no repository at [^]*create one with `arca repo init`/);
    assert.equal(existsSync(dir), false);

    const init = await runArca(["repo", "init", "--repo", `file://${dir}`], withFile(passwordFile));
    assert.equal(init.code, 0, init.stderr);
    await restic(resticWith(dir, { RESTIC_PASSWORD_FILE: passwordFile }), ["check"]);
  });
});
