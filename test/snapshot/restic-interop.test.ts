// Arca and restic read and write the same repositories: each checks and restores what the
// other wrote, byte for byte and with the same metadata. Run on file:// and on the S3 server.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  allocatedBytes,
  assertSameTree,
  describeTree,
  standardTree,
  writeTree,
} from "../support/fixture-tree.js";
import { restic, resticSnapshots, type ResticRepo } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const PASSWORD = "correct horse battery staple";

interface Backend {
  name: string;
  /** A new, empty repository location: Arca's URL and restic's name for it. */
  fresh(): { url: string; restic: ResticRepo };
}

const scratch = mkdtempSync(join(tmpdir(), "arca-interop-"));
let env: TestEnvironment;
let bucket: string;

const backends: Backend[] = [
  {
    name: "file://",
    fresh() {
      const dir = join(scratch, uniqueName("repo"));
      return { url: `file://${dir}`, restic: { repo: dir, env: { RESTIC_PASSWORD: PASSWORD } } };
    },
  },
  {
    name: "s3:// (MinIO)",
    fresh() {
      const prefix = uniqueName("repo");
      const host = env.s3.endpoint;
      return {
        url: `s3://${bucket}/${prefix}?region=${env.s3.region}&endpoint=${host}&forcePathStyle=true`,
        restic: {
          repo: `s3:${host}/${bucket}/${prefix}`,
          env: {
            RESTIC_PASSWORD: PASSWORD,
            AWS_ACCESS_KEY_ID: env.s3.accessKeyId,
            AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
            AWS_DEFAULT_REGION: env.s3.region,
          },
        },
      };
    },
  },
];

function store(url: string) {
  return openStore(url, {
    s3Credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
}

before(async () => {
  env = await testEnvironment();
  bucket = await env.s3.createBucket();
});
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await env?.stop();
});

for (const backend of backends) {
  describe(`restic interoperability on ${backend.name}`, () => {
    let source: string;
    before(async () => {
      source = join(scratch, uniqueName("source"), "app-data");
      await writeTree(source, standardTree());
    });

    it("Arca writes: restic check --read-data passes and restic restore gives the same tree", async () => {
      const loc = backend.fresh();
      if (loc.url.startsWith("file://"))
        await import("node:fs/promises").then((fs) => fs.mkdir(loc.url.slice(7), { recursive: true }));
      const repo = await Repository.init(store(loc.url), PASSWORD);
      const { id, warnings } = await backupDirectory(repo, source, { tags: ["arca"] });
      repo.close();
      assert.deepEqual(warnings, []);

      await restic(loc.restic, ["check", "--read-data"]);
      const [snap] = await resticSnapshots(loc.restic);
      assert.equal(snap?.id, id);
      const target = join(scratch, uniqueName("restic-out"));
      await restic(loc.restic, ["restore", id, "--target", target]);
      assertSameTree(await describeTree(join(target, source)), await describeTree(source));
    });

    for (const compression of ["auto", "off"]) {
      it(`restic writes (compression ${compression}): Arca lists and restores the same tree`, async () => {
        const loc = backend.fresh();
        await restic(loc.restic, ["init"]);
        await restic(loc.restic, ["backup", "--compression", compression, source]);
        const repo = await Repository.open(store(loc.url), PASSWORD);
        try {
          const { snapshot } = await repo.findSnapshot("latest");
          assert.deepEqual(snapshot.paths, [source]);
          const target = join(scratch, uniqueName("arca-out"));
          await restoreTree(repo, snapshot.tree, target, { include: source });
          assertSameTree(await describeTree(target), await describeTree(source));
          // The hole in the middle of the sparse file stays a hole.
          assert.ok((await allocatedBytes(join(target, "sparse.img"))) < 1024 * 1024);
        } finally {
          repo.close();
        }
      });
    }

    it("Arca backs up incrementally on top of a restic snapshot, and restic checks the result", async () => {
      const loc = backend.fresh();
      await restic(loc.restic, ["init"]);
      await restic(loc.restic, ["backup", source]);
      const [parent] = await resticSnapshots(loc.restic);
      const repo = await Repository.open(store(loc.url), PASSWORD);
      try {
        const { snapshot } = await backupDirectory(repo, source, { parent: parent?.id });
        assert.equal(snapshot.parent, parent?.id);
        assert.equal(snapshot.summary?.files_new, 0);
        assert.equal(snapshot.summary?.files_changed, 0);
        assert.ok((snapshot.summary?.files_unmodified ?? 0) >= 8, "unchanged files were not read again");
        // Nothing is new: Arca encodes unchanged trees byte for byte as restic did.
        assert.equal(snapshot.summary?.data_blobs, 0);
        assert.equal(snapshot.summary?.tree_blobs, 0);
        assert.equal(snapshot.tree, parent?.tree);
      } finally {
        repo.close();
      }
      await restic(loc.restic, ["check", "--read-data"]);
    });
  });
}
