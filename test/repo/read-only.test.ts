// Restoring from a repository that cannot be written: a read-only mount, a full disk, a bucket
// with read-only credentials. Without --no-lock the reading commands stop at the lock and say
// what to do; with it, they list, restore and check, and write nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { STATE_ENV_VAR, testEnvironment } from "../env/environment.js";
import { startS3Server, type S3Server } from "../env/s3.js";
import { runArca } from "../cli/run.js";
import { assertSameTree, describeTree } from "../support/fixture-tree.js";
import { uniqueName } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-read-only-"));
const source = join(scratch, "source");
const passwordEnv = { ARCA_PASSWORD: "pw", ARCA_PASSWORD_FILE: "" };

function writeSource(): void {
  mkdirSync(join(source, "conf"), { recursive: true });
  writeFileSync(join(source, "conf", "app.yaml"), "replicas: 3\n");
  writeFileSync(join(source, "data.bin"), Buffer.alloc(200_000, 42));
}

/** Backs `source` up twice into a new repository at `url`. */
async function repositoryWithSnapshots(url: string, env: NodeJS.ProcessEnv): Promise<void> {
  const init = await runArca(["repo", "init", "--repo", url], env);
  assert.equal(init.code, 0, init.stderr);
  for (let i = 0; i < 2; i++) {
    writeFileSync(join(source, "round.txt"), `round ${i}\n`);
    const backup = await runArca(["fs", "backup", "--repo", url, source], env);
    assert.equal(backup.code, 0, backup.stderr);
  }
}

/** Every reading command works with --no-lock: list, restore the latest, check every byte. */
async function readsWithoutLock(url: string, env: NodeJS.ProcessEnv): Promise<void> {
  const listed = await runArca(["repo", "snapshots", "--no-lock", "--repo", url, "-o", "json"], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 2);

  const target = join(scratch, uniqueName("restored"));
  const restored = await runArca(
    ["fs", "restore", "--no-lock", "--repo", url, `latest:${source}`, target],
    env,
  );
  assert.equal(restored.code, 0, restored.stderr);
  assertSameTree(await describeTree(target), await describeTree(source));

  const checked = await runArca(["repo", "check", "--no-lock", "--read-data", "--repo", url], env);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /no errors were found/);
}

describe("a repository that cannot be written", () => {
  before(writeSource);
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const env = { ...process.env, ...passwordEnv };

  it("on a read-only mount: the lock error says so and names --no-lock, with which every read works", async () => {
    const dir = join(scratch, uniqueName("repo"));
    mkdirSync(dir);
    await repositoryWithSnapshots(`file://${dir}`, env);
    const mounted = join(scratch, uniqueName("read-only"));
    mkdirSync(mounted);
    // chmod does not stop root: a read-only bind mount does.
    execFileSync("mount", ["--bind", "-o", "ro", dir, mounted]);
    try {
      const url = `file://${mounted}`;
      const refused = await runArca(["repo", "snapshots", "--repo", url], env);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(
          `could not write a lock to ${url}: .*read-only file system.*; the repository may be read-only`,
        ),
      );
      assert.match(refused.stderr, /hint: for a read-only command .* pass --no-lock/);
      await readsWithoutLock(url, env);
    } finally {
      execFileSync("umount", [mounted]);
    }
  });

  it("on a full disk: the lock error says the disk may be full, and --no-lock reads", async () => {
    const disk = join(scratch, uniqueName("small-disk"));
    mkdirSync(disk);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", disk]);
    try {
      const dir = join(scratch, uniqueName("repo"));
      mkdirSync(dir);
      await repositoryWithSnapshots(`file://${dir}`, env);
      cpSync(dir, join(disk, "repo"), { recursive: true });
      const { bavail, bsize } = statfsSync(disk);
      writeFileSync(join(disk, "filler"), Buffer.alloc(bavail * bsize));
      assert.equal(statfsSync(disk).bavail, 0, "the disk is full");

      const url = `file://${join(disk, "repo")}`;
      const refused = await runArca(["repo", "snapshots", "--repo", url], env);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(`could not write a lock to ${url}: .*; the repository may be on a full disk`),
      );
      assert.match(
        refused.stderr,
        /hint: for a read-only command .* pass --no-lock; to write, free space first/,
      );
      await readsWithoutLock(url, env);
    } finally {
      execFileSync("umount", [disk]);
    }
  });

  describe("in a bucket, with credentials that may only read", () => {
    let s3: S3Server;
    let stopOwn: (() => Promise<void>) | undefined;
    before(async () => {
      // The run's shared server when there is one; otherwise a MinIO of our own (no cluster).
      if (process.env[STATE_ENV_VAR]) s3 = (await testEnvironment()).s3;
      else {
        s3 = await startS3Server({ name: "read-only" });
        stopOwn = () => s3.stop();
      }
    });
    after(async () => stopOwn?.());

    it("the lock error names the denial and --no-lock, with which every read works", async () => {
      const bucket = await s3.createBucket();
      const url = `s3://${bucket}/${uniqueName("repo")}?region=${s3.region}&endpoint=${s3.endpoint}&forcePathStyle=true`;
      const as = (key: string, secret: string) => ({
        ...env,
        AWS_ACCESS_KEY_ID: key,
        AWS_SECRET_ACCESS_KEY: secret,
        AWS_REGION: "",
      });
      await repositoryWithSnapshots(url, as(s3.accessKeyId, s3.secretAccessKey));
      const reader = uniqueName("reader");
      await s3.addUser(reader, "reader-secret-123", {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/*`] },
          { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${bucket}`] },
        ],
      });
      const readOnly = as(reader, "reader-secret-123");

      const refused = await runArca(["repo", "snapshots", "--repo", url], readOnly);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /could not write a lock to s3:\/\/.*AccessDenied.*; the repository may be read-only/,
      );
      assert.match(refused.stderr, /hint: for a read-only command .* pass --no-lock/);
      await readsWithoutLock(url, readOnly);
    });
  });
});
