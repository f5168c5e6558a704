// Virtual trees (the shape a resource backup takes), checked and read back by restic.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Repository } from "../../src/repo/repository.js";
import { formatTime } from "../../src/repo/time.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { writeVirtualTree } from "../../src/snapshot/virtual.js";
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
});
