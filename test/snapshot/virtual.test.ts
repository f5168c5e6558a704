// Virtual trees (the shape a resource backup takes), checked and read back by restic.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Repository } from "../../src/repo/repository.js";
import { formatTime } from "../../src/repo/time.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { TreeBuilder, writeVirtualTree } from "../../src/snapshot/virtual.js";
import { openStore } from "../../src/storage/index.js";
import { describeTree, standardTree, writeTree } from "../support/fixture-tree.js";
import { restic } from "../support/restic.js";

describe("virtual trees", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-virtual-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("writes (path, bytes) entries and a grafted subtree that restic checks and restores", async () => {
    const dir = join(scratch, "repo");
    mkdirSync(dir);
    const repo = await Repository.init(openStore(`file://${dir}`), "pw");
    // A "node agent" backs up a volume on its own; its subtree is grafted below /volumes.
    const volume = join(scratch, "volume");
    await writeTree(volume, standardTree());
    const agent = await backupDirectory(repo, volume);
    let volumeTree = agent.snapshot.tree;
    for (const name of volume.split("/").filter(Boolean)) {
      volumeTree = (await repo.loadTree(volumeTree)).nodes.find((n) => n.name === name)?.subtree as string;
    }

    const configMap = Buffer.from(
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" } }),
    );
    const tree = await writeVirtualTree(repo, [
      { path: "/arca/backup.json", data: Buffer.from('{"name":"nightly"}') },
      { path: "/resources/configmaps/namespaces/shop/settings.json", data: configMap },
      { path: "/resources/namespaces/cluster/shop.json", data: Buffer.from("{}") },
      { path: "/volumes/shop/data", subtree: volumeTree },
    ]);
    await repo.flush();
    const id = await repo.saveSnapshot({
      time: formatTime(new Date()),
      tree,
      paths: ["/"],
      tags: ["arca", "backup=nightly"],
    });
    repo.close();

    const target = { repo: dir, env: { RESTIC_PASSWORD: "pw" } };
    await restic(target, ["check", "--read-data"]);
    const out = join(scratch, "out");
    await restic(target, ["restore", id, "--target", out]);
    assert.deepEqual(
      readFileSync(join(out, "resources/configmaps/namespaces/shop/settings.json")),
      configMap,
    );
    const restored = await describeTree(join(out, "volumes/shop/data"));
    const original = await describeTree(volume);
    assert.deepEqual(Object.keys(restored), Object.keys(original));
  });

  it("refuses paths that collide or escape", async () => {
    const dir = join(scratch, "repo2");
    mkdirSync(dir);
    const repo = await Repository.init(openStore(`file://${dir}`), "pw");
    try {
      await assert.rejects(
        writeVirtualTree(repo, [{ path: "/a/../b", data: Buffer.from("x") }]),
        /invalid path/,
      );
      await assert.rejects(
        writeVirtualTree(repo, [
          { path: "/a", data: Buffer.from("x") },
          { path: "/a/b", data: Buffer.from("y") },
        ]),
        /inside a file/,
      );
    } finally {
      repo.close();
    }
  });

  describe("a directory settled early", () => {
    const TIME = new Date("2026-01-02T03:04:05Z");
    const item = (i: number) => Buffer.from(JSON.stringify({ kind: "ConfigMap", n: i, pad: "x".repeat(i) }));
    const shop = (i: number) => `/resources/configmaps/namespaces/shop/cm-${i}.json`;
    let n = 0;
    /** A builder on a repository of its own, for the length of `use`. */
    const withTree = async <T>(use: (tree: TreeBuilder, repo: Repository) => Promise<T>): Promise<T> => {
      const dir = join(scratch, `settle-${n++}`);
      mkdirSync(dir);
      const repo = await Repository.init(openStore(`file://${dir}`), "pw");
      try {
        return await use(new TreeBuilder(repo, { time: TIME }), repo);
      } finally {
        repo.close();
      }
    };
    /** The root a builder that never settles gives for the same files: the reference. */
    const plainRoot = (paths: string[]) =>
      withTree(async (tree) => {
        for (const [i, p] of paths.entries()) await tree.addFile(p, item(i));
        return tree.finish();
      });

    it("gives the same tree, and stores it once, when nothing changes after", async () => {
      const paths = [shop(0), shop(1), "/resources/secrets/namespaces/shop/s.json"];
      await withTree(async (tree, repo) => {
        for (const [i, p] of paths.slice(0, 2).entries()) await tree.addFile(p, item(i));
        tree.settle("/resources/configmaps/namespaces");
        const settledTrees = repo.stats.treeBlobs;
        assert.equal(settledTrees, 2, "namespaces/ and namespaces/shop/ are written at once");
        await tree.addFile(paths[2] as string, item(2));
        assert.equal(await tree.finish(), await plainRoot(paths));
        // root, resources, configmaps, and secrets with its two: none of the settled ones again
        assert.equal(repo.stats.treeBlobs, settledTrees + 6);
      });
    });

    it("writes a settled directory again when its last file's content lands after", async () => {
      const paths = [shop(0), shop(1)];
      await withTree(async (tree) => {
        await tree.addFile(paths[0] as string, item(0));
        const inFlight = tree.addFile(paths[1] as string, item(1)); // new content: a promise
        tree.settle("/resources/configmaps");
        await inFlight;
        assert.equal(await tree.finish(), await plainRoot(paths));
      });
    });

    it("writes a settled directory again when a file or a directory is added under it", async () => {
      const paths = [shop(0), shop(1), "/resources/configmaps/namespaces/web/cm.json"];
      await withTree(async (tree) => {
        await tree.addFile(paths[0] as string, item(0));
        tree.settle("/resources/configmaps");
        await tree.addFile(paths[1] as string, item(1)); // a file in a settled directory
        tree.settle("/resources/configmaps");
        await tree.addFile(paths[2] as string, item(2)); // a new directory in a settled one
        assert.equal(await tree.finish(), await plainRoot(paths));
      });
    });

    it("ignores a directory that does not exist", async () => {
      await withTree(async (tree) => {
        await tree.addFile(shop(0), item(0));
        tree.settle("/resources/secrets/namespaces");
        assert.equal(await tree.finish(), await plainRoot([shop(0)]));
      });
    });
  });
});
