// File names restic must read back exactly: quotes, backslashes, control characters.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  encodeNode,
  encodeTree,
  fileNodeEncoder,
  quoteName,
  unquoteName,
  type Node,
} from "../../src/repo/model.js";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { openStore } from "../../src/storage/index.js";
import { restic } from "../support/restic.js";

const awkward = [
  'say "hi".txt',
  "back\\slash",
  "tab\there",
  "new\nline",
  "<html>&amp;",
  "zero\u200bwidth",
  "ünï",
  // UTF-16 orders these two the other way round from their UTF-8 bytes, which restic sorts by.
  "\uffff private",
  "\u{1f600} face",
];

describe("file names", () => {
  it("quote as Go's strconv.Quote does, and round-trip", () => {
    assert.equal(quoteName('say "hi"'), 'say \\"hi\\"');
    assert.equal(quoteName("tab\there"), "tab\\there");
    assert.equal(quoteName("bell\x07"), "bell\\a");
    assert.equal(quoteName("\x01"), "\\x01");
    assert.equal(quoteName("zero\u200bwidth"), "zero\\u200bwidth");
    for (const name of awkward) assert.equal(unquoteName(quoteName(name)), name);
  });

  it("sort in a tree by their UTF-8 bytes, as restic's do", () => {
    const node = (name: string): Node => ({ name, type: "file", mode: 0o644, uid: 0, gid: 0, content: [] });
    const names = ["b", "\u{1f600}", "a", "\uffff", "é"];
    const tree = JSON.parse(encodeTree({ nodes: names.map(node) }).toString()) as { nodes: Node[] };
    const bytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(
      tree.nodes.map((n) => unquoteName(n.name)),
      bytes,
    );
    assert.deepEqual(bytes, ["a", "b", "é", "\uffff", "\u{1f600}"]);
  });

  it("encode the same through the file-node template as through a whole node", () => {
    const time = "2026-11-24T22:00:00.123456789Z";
    const shared = { mode: 0o644, mtime: time, atime: time, ctime: time, uid: 0, gid: 0, links: 1 };
    const encode = fileNodeEncoder(shared);
    const ids = ["ab".repeat(32), "cd".repeat(32)];
    for (const name of awkward)
      for (const [size, content] of [
        [0, []],
        [12, ids[0] as string],
        [40_000, ids],
      ] as const) {
        const whole: Node = {
          name,
          type: "file",
          ...shared,
          ...(size ? { size } : {}),
          content: typeof content === "string" ? [content] : [...content],
        };
        assert.equal(
          encode(name, size, typeof content === "string" ? content : [...content]),
          encodeNode(whole),
        );
      }
  });

  it("survive a backup that restic restores", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "arca-names-"));
    try {
      const source = join(scratch, "src");
      mkdirSync(source);
      for (const name of awkward) writeFileSync(join(source, name), name);
      mkdirSync(join(scratch, "repo"));
      const repo = await Repository.init(openStore(`file://${join(scratch, "repo")}`), "pw");
      const { id } = await backupDirectory(repo, source);
      repo.close();
      const r = { repo: join(scratch, "repo"), env: { RESTIC_PASSWORD: "pw" } };
      await restic(r, ["check", "--read-data"]);
      await restic(r, ["restore", id, "--target", join(scratch, "out")]);
      assert.deepEqual(readdirSync(join(scratch, "out", source)).sort(), [...awkward].sort());
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
