// Arca and restic read and write the same repositories: each checks and restores what the
// other wrote, byte for byte and with the same metadata. Run on file:// and on the S3 server.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeTree } from "../../src/repo/model.js";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { nodeAt } from "../../src/snapshot/reader.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { listXattrs, setXattr } from "../../src/snapshot/xattr.js";
import { openStore } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  allocatedBytes,
  assertSameTree,
  describeTree,
  readXattrs,
  standardTree,
  writeTree,
  xattrsSupported,
  type Entry,
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
        // Nothing below the source is new: Arca encodes unchanged trees byte for byte as restic
        // did. (Its ancestors' trees hold /tmp's mtime, which any other process may change.)
        assert.equal(snapshot.summary?.data_blobs, 0);
        const ours = await nodeAt(repo, snapshot.tree, source);
        const theirs = await nodeAt(repo, parent?.tree as string, source);
        assert.ok(ours?.subtree, "the source directory is in Arca's snapshot");
        assert.equal(ours?.subtree, theirs?.subtree);
      } finally {
        repo.close();
      }
      await restic(loc.restic, ["check", "--read-data"]);
    });
  });
}

describe("extended attributes with restic (file://)", () => {
  const backend = backends[0] as Backend;
  // trusted.* needs root; it is how a symlink or a FIFO can carry xattrs at all (user.* is
  // for regular files and directories only).
  const root = process.getuid?.() === 0;
  let source: string;
  let supported = false;
  let arca: { url: string; restic: ResticRepo; id: string; tree: string };
  let theirs: { url: string; restic: ResticRepo; id: string; tree: string };

  before(async () => {
    source = join(scratch, uniqueName("xattr-source"), "data");
    mkdirSync(source, { recursive: true });
    supported = xattrsSupported(source);
    if (!supported) return;
    const entries: Record<string, Entry> = {
      "notes.txt": {
        kind: "file",
        bytes: Buffer.from("notes\n"),
        xattrs: {
          "user.zeta": Buffer.from([0, 0xff, 0x62, 0x69, 0x6e]),
          "user.alpha": Buffer.from("hello"),
          "user.empty": Buffer.alloc(0),
        },
      },
      "plain.txt": { kind: "file", bytes: Buffer.from("no attributes\n") },
      conf: { kind: "dir", xattrs: { "user.dir": Buffer.from("x") } },
      "conf/app.yaml": { kind: "file", bytes: Buffer.from("a: 1\n"), xattrs: { "user.k": Buffer.from("v") } },
      link: {
        kind: "symlink",
        target: "notes.txt",
        xattrs: root ? { "trusted.link": Buffer.from("L") } : {},
      },
      pipe: { kind: "fifo", xattrs: root ? { "trusted.pipe": Buffer.from("P") } : {} },
    };
    await writeTree(source, entries);
    setXattr(source, "user.top", Buffer.from("the backed-up directory itself"));

    // Both repositories exist before either backup, so the scratch directory (an ancestor in
    // both snapshots) does not change in between.
    const arcaLoc = backend.fresh();
    mkdirSync(arcaLoc.url.slice("file://".length), { recursive: true });
    const theirLoc = backend.fresh();
    const repo = await Repository.init(store(arcaLoc.url), PASSWORD);
    await restic(theirLoc.restic, ["init"]);
    try {
      const { id, snapshot, warnings } = await backupDirectory(repo, source);
      assert.deepEqual(warnings, []);
      arca = { ...arcaLoc, id, tree: snapshot.tree };
    } finally {
      repo.close();
    }
    await restic(theirLoc.restic, ["backup", source]);
    const [snap] = await resticSnapshots(theirLoc.restic);
    theirs = { ...theirLoc, id: snap?.id as string, tree: snap?.tree as string };
  });

  /** The ID of the tree that lists `source` itself: its node, xattrs and all, and below. */
  async function parentTreeOf(url: string, tree: string): Promise<string> {
    const repo = await Repository.open(store(url), PASSWORD);
    try {
      return (await nodeAt(repo, tree, dirname(source)))?.subtree as string;
    } finally {
      repo.close();
    }
  }

  it("restic 0.14 records them unsorted, base64, omitted when none, not on symlinks; Arca's tree is the same bytes", async (t) => {
    if (!supported) return t.skip("no user.* xattrs on this file system");
    const id = await parentTreeOf(theirs.url, theirs.tree);
    // Written independently (every file is one chunk for both), the trees are identical.
    assert.equal(await parentTreeOf(arca.url, arca.tree), id);

    const dataTree = (
      JSON.parse(await restic(theirs.restic, ["cat", "blob", id])) as { nodes: Array<{ subtree: string }> }
    ).nodes[0]?.subtree as string;
    const raw = await restic(theirs.restic, ["cat", "blob", dataTree]);
    // The order is the file system's listing, not sorted; values are base64, empty ones "";
    // the field sits between links and content.
    const values: Record<string, string> = {
      "user.zeta": "AP9iaW4=",
      "user.alpha": "aGVsbG8=",
      "user.empty": "",
    };
    const listed = listXattrs(join(source, "notes.txt"));
    const field = listed.map((name) => `{"name":"${name}","value":"${values[name]}"}`).join(",");
    assert.ok(raw.includes(`"links":1,"extended_attributes":[${field}],"content":`), raw);
    const nodes = (JSON.parse(raw) as { nodes: Array<Record<string, unknown>> }).nodes;
    const node = (name: string) => nodes.find((n) => n.name === name) ?? {};
    assert.ok(!("extended_attributes" in node("plain.txt")), "no field without xattrs");
    assert.ok(!("extended_attributes" in node("link")), "restic 0.14 skips symlinks' xattrs");
    assert.deepEqual(node("conf").extended_attributes, [{ name: "user.dir", value: "eA==" }]);
    if (root) assert.deepEqual(node("pipe").extended_attributes, [{ name: "trusted.pipe", value: "UA==" }]);

    // And Arca's encoder gives restic's bytes for the tree as it reads it back.
    const repo = await Repository.open(store(theirs.url), PASSWORD);
    try {
      assert.equal(encodeTree(await repo.loadTree(dataTree)).toString(), raw);
    } finally {
      repo.close();
    }
  });

  it("Arca backs up incrementally on restic's snapshot: xattrs re-read, the same trees", async (t) => {
    if (!supported) return t.skip("no user.* xattrs on this file system");
    const repo = await Repository.open(store(theirs.url), PASSWORD);
    let tree: string;
    try {
      const { snapshot, warnings } = await backupDirectory(repo, source, { parent: theirs.id });
      assert.deepEqual(warnings, []);
      assert.equal(snapshot.summary?.files_unmodified, 3);
      assert.equal(snapshot.summary?.data_blobs, 0);
      tree = snapshot.tree;
    } finally {
      repo.close();
    }
    // The same tree blobs below the scratch directory (whose own times others may touch).
    assert.equal(await parentTreeOf(theirs.url, tree), await parentTreeOf(theirs.url, theirs.tree));
  });

  it("restic restores the xattrs Arca recorded", async (t) => {
    if (!supported) return t.skip("no user.* xattrs on this file system");
    const target = join(scratch, uniqueName("restic-xattr-out"));
    await restic(arca.restic, ["restore", arca.id, "--target", target]);
    const restored = join(target, source);
    assertSameTree(await describeTree(restored), await describeTree(source));
    assert.ok((await describeTree(restored))["notes.txt"]?.xattrs?.["user.alpha"], "xattrs were compared");
    assert.deepEqual(readXattrs(restored), readXattrs(source));
  });

  it("Arca restores the xattrs restic recorded", async (t) => {
    if (!supported) return t.skip("no user.* xattrs on this file system");
    const repo = await Repository.open(store(theirs.url), PASSWORD);
    const target = join(scratch, uniqueName("arca-xattr-out"));
    try {
      await restoreTree(repo, theirs.tree, target, { include: dirname(source) });
    } finally {
      repo.close();
    }
    const restored = join(target, "data");
    assertSameTree(await describeTree(restored), await describeTree(source));
    assert.deepEqual(readXattrs(restored), readXattrs(source));
    if (root) assert.deepEqual(readXattrs(join(restored, "pipe")), { "trusted.pipe": "UA==" });
  });
});
