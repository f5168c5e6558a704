// File names and symlink targets are bytes: names that are not UTF-8 go through Arca and restic
// byte for byte, in both directions, and the trees record them as restic's format does.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeTree, quoteName, sortedByNameBytes, unquoteName } from "../../src/repo/model.js";
import { Repository } from "../../src/repo/repository.js";
import { fromBytes, toBytes } from "../../src/common/byte-names.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { openStore } from "../../src/storage/index.js";
import { restic, resticSnapshots, type ResticRepo } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const PASSWORD = "pw";
const b = (...parts: Array<string | number[] | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));

/** Names as the file system holds them: Latin-1, a stray continuation byte, a cut sequence. */
const LATIN1 = b("caf", [0xe9]);
const STRAY = b("d", [0x80], "ir");
const CUT = b("half", [0xe2, 0x82]);
const INVALID_TARGET = b([0xff, 0xfe], "/x");

/** A path's bytes shown with every byte outside printable ASCII as \xNN, for readable diffs. */
function shown(bytes: Buffer): string {
  return [...bytes]
    .map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16)}`))
    .join("");
}

interface Seen {
  type: string;
  content?: string;
  target?: string;
  mtimeNs?: string;
}

/** Every entry below `root`, keyed by its path's bytes (shown), read without decoding names. */
function listBytes(root: Buffer | string): Record<string, Seen> {
  const out: Record<string, Seen> = {};
  const walk = (dir: Buffer, rel: Buffer) => {
    for (const name of readdirSync(dir, { encoding: "buffer" })) {
      const full = b(dir, "/", name);
      const path = rel.length ? b(rel, "/", name) : name;
      const st = lstatSync(full, { bigint: true });
      if (st.isDirectory()) {
        out[shown(path)] = { type: "dir" };
        walk(full, path);
      } else if (st.isFIFO()) {
        out[shown(path)] = { type: "fifo", mtimeNs: String(st.mtimeNs) };
      } else if (st.isSymbolicLink()) {
        out[shown(path)] = { type: "symlink", target: shown(readlinkSync(full, { encoding: "buffer" })) };
      } else {
        out[shown(path)] = {
          type: "file",
          content: readFileSync(full).toString(),
          mtimeNs: String(st.mtimeNs),
        };
      }
    }
  };
  walk(Buffer.from(root), Buffer.alloc(0));
  return out;
}

const scratch = mkdtempSync(join(tmpdir(), "arca-bytenames-"));
const source = join(scratch, "src");
after(() => rmSync(scratch, { recursive: true, force: true }));

function freshRepo(): { dir: string; url: string; restic: ResticRepo } {
  const dir = join(scratch, uniqueName("repo"));
  return { dir, url: `file://${dir}`, restic: { repo: dir, env: { RESTIC_PASSWORD: PASSWORD } } };
}

async function arcaBackup(): Promise<{ repo: ReturnType<typeof freshRepo>; id: string; warnings: string[] }> {
  const repo = freshRepo();
  mkdirSync(repo.dir);
  const r = await Repository.init(openStore(repo.url), PASSWORD);
  try {
    const { id, warnings } = await backupDirectory(r, source);
    return { repo, id, warnings };
  } finally {
    r.close();
  }
}

async function arcaRestore(url: string, snapshot: string, target: string, include?: string): Promise<void> {
  const r = await Repository.open(openStore(url), PASSWORD);
  try {
    const { tree } = (await r.findSnapshot(snapshot)).snapshot;
    await restoreTree(r, tree, target, include ? { include } : {});
  } finally {
    r.close();
  }
}

/** The JSON nodes of the tree restic stored for `path` in snapshot `id`, read by restic. */
async function storedNodes(
  repo: ResticRepo,
  id: string,
  path: string,
): Promise<Array<Record<string, unknown>>> {
  const snapshot = (await resticSnapshots(repo)).find((s) => id.startsWith(s.id) || s.id.startsWith(id));
  assert.ok(snapshot, `snapshot ${id} is listed by restic`);
  let tree = snapshot.tree;
  for (const name of path.split("/").filter(Boolean)) {
    const nodes = JSON.parse(await restic(repo, ["cat", "blob", tree])).nodes as Array<
      Record<string, string>
    >;
    tree = nodes.find((n) => n.name === name)?.subtree as string;
    assert.ok(tree, `${name} is in the tree`);
  }
  return JSON.parse(await restic(repo, ["cat", "blob", tree])).nodes as Array<Record<string, unknown>>;
}

before(() => {
  mkdirSync(source);
  const src = Buffer.from(source);
  writeFileSync(b(src, "/", LATIN1), "latin-1");
  writeFileSync(b(src, "/", CUT), "cut short");
  writeFileSync(b(src, "/oké"), "valid UTF-8");
  mkdirSync(b(src, "/", STRAY));
  writeFileSync(b(src, "/", STRAY, "/", [0xff, 0xfe]), "inside");
  symlinkSync(LATIN1, b(src, "/to-latin1"));
  symlinkSync(INVALID_TARGET, b(src, "/to-invalid"));
  symlinkSync("oké", b(src, "/to-valid"));
  // mkfifo takes its name as an argument, which Node passes as UTF-8: make it, then rename it.
  execFileSync("mkfifo", [join(scratch, "fifo")]);
  renameSync(join(scratch, "fifo"), b(src, "/pipe", [0xfe]));
  // A name decodes to U+FFFD when it is not UTF-8; a real U+FFFD in a name must stay one.
  writeFileSync(b(src, "/real\ufffd"), "a real replacement character");
});

describe("file names that are not UTF-8", () => {
  it("are quoted and unquoted as Go's strconv does, byte for byte, and sort by their bytes", () => {
    assert.equal(quoteName(fromBytes(LATIN1)), "caf\\xe9");
    assert.equal(quoteName(fromBytes(CUT)), "half\\xe2\\x82");
    assert.deepEqual(toBytes(unquoteName("caf\\xe9")), LATIN1);
    assert.deepEqual(toBytes(unquoteName("d\\x80ir")), STRAY);
    // Escaped bytes that together are UTF-8 are that character, as Go's Unquote gives them.
    assert.equal(unquoteName("caf\\xc3\\xa9"), "café");
    assert.equal(unquoteName("\\xe2\\x82"), fromBytes(b([0xe2, 0x82])));
    const names = [fromBytes(LATIN1), "café", fromBytes(STRAY), "caf", fromBytes(b([0xff]))];
    assert.deepEqual(
      sortedByNameBytes(names.map((name) => ({ name }))).map((n) => toBytes(n.name)),
      names.map(toBytes).sort(Buffer.compare),
    );
  });

  it("any bytes survive decoding, quoting, unquoting and encoding unchanged", () => {
    // Bytes near UTF-8's edges: ASCII, continuation bytes, lead bytes, and the ones never valid.
    const alphabet = [
      0x41, 0x5c, 0x22, 0x0a, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
    ];
    alphabet.push(0xf0, 0xf4, 0xf5, 0xff, 0xe2, 0x82, 0xac, 0x9d, 0x8f, 0x90);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(
        Array.from(
          { length: 1 + (i % 9) },
          () => alphabet[Math.floor(Math.random() * alphabet.length)] as number,
        ),
      );
      const name = fromBytes(bytes);
      assert.deepEqual(toBytes(name), bytes, shown(bytes));
      assert.deepEqual(toBytes(unquoteName(quoteName(name))), bytes, shown(bytes));
      // Valid UTF-8 is its plain decoding, and only valid UTF-8 is.
      assert.equal(name === bytes.toString(), Buffer.from(bytes.toString()).equals(bytes), shown(bytes));
    }
  });

  it("Arca backs them up without a warning and restores the same bytes, symlink targets too", async () => {
    const { repo, id, warnings } = await arcaBackup();
    assert.deepEqual(warnings, []);
    const target = join(scratch, uniqueName("out"));
    await arcaRestore(repo.url, id, target, source);
    assert.deepEqual(listBytes(target), listBytes(source));
    assert.equal(listBytes(target)["to-invalid"]?.target, "\\xff\\xfe/x");
  });

  it("restic checks Arca's snapshot and restores the same names, and links as from its own", async () => {
    const { repo, id } = await arcaBackup();
    await restic(repo.restic, ["check", "--read-data"]);
    const fromArca = join(scratch, uniqueName("out"));
    await restic(repo.restic, ["restore", id, "--target", fromArca]);
    await restic(repo.restic, ["backup", source]);
    const fromRestic = join(scratch, uniqueName("out"));
    await restic(repo.restic, ["restore", "latest", "--target", fromRestic]);

    const restored = listBytes(join(fromArca, source));
    const original = listBytes(source);
    assert.deepEqual(Object.keys(restored).sort(), Object.keys(original).sort());
    for (const [path, seen] of Object.entries(original))
      if (seen.type === "file") assert.deepEqual(restored[path], seen, path);
    // restic 0.14 predates linktarget_raw: it restores a target that is not UTF-8 with U+FFFD
    // in place of each byte, from Arca's snapshot exactly as from its own.
    assert.deepEqual(restored, listBytes(join(fromRestic, source)));
    assert.equal(restored["to-valid"]?.target, "ok\\xc3\\xa9");
  });

  it("Arca restores restic's snapshot of them to the same bytes", async () => {
    const repo = freshRepo();
    await restic(repo.restic, ["init"]);
    await restic(repo.restic, ["backup", source]);
    const fromArca = join(scratch, uniqueName("out"));
    await arcaRestore(repo.url, "latest", fromArca, source);
    const fromRestic = join(scratch, uniqueName("out"));
    await restic(repo.restic, ["restore", "latest", "--target", fromRestic, "--include", source]);

    const original = listBytes(source);
    const restored = listBytes(fromArca);
    assert.deepEqual(Object.keys(restored).sort(), Object.keys(original).sort());
    assert.deepEqual(restored[shown(LATIN1)], original[shown(LATIN1)]);
    assert.deepEqual(
      restored[shown(b(STRAY, "/", [0xff, 0xfe]))],
      original[shown(b(STRAY, "/", [0xff, 0xfe]))],
    );
    assert.deepEqual(restored, listBytes(join(fromRestic, source)));
  });

  it("Arca's tree records them as restic's does: Go-quoted names, raw link targets in linktarget_raw", async () => {
    const arca = await arcaBackup();
    const repo = freshRepo();
    await restic(repo.restic, ["init"]);
    await restic(repo.restic, ["backup", source]);
    const [latest] = await resticSnapshots(repo.restic);
    const ours = await storedNodes(arca.repo.restic, arca.id, source);
    const theirs = await storedNodes(repo.restic, latest?.id as string, source);
    const fields = (nodes: Array<Record<string, unknown>>) =>
      nodes.map((n) => ({ name: n.name, type: n.type, linktarget: n.linktarget }));
    assert.deepEqual(fields(ours), fields(theirs));
    assert.ok(
      ours.some((n) => n.name === "caf\\xe9"),
      "the Latin-1 name is stored as restic stores it",
    );
    // restic 0.16 and later keep the target's bytes as base64 beside the lossy string.
    const raw = ours.find((n) => n.name === "to-invalid");
    assert.equal(raw?.linktarget, "\ufffd\ufffd/x");
    assert.equal(raw?.linktarget_raw, INVALID_TARGET.toString("base64"));
    assert.equal(ours.find((n) => n.name === "to-latin1")?.linktarget_raw, LATIN1.toString("base64"));
    assert.equal(ours.find((n) => n.name === "to-valid")?.linktarget_raw, undefined);
  });

  it("a tree with linktarget_raw, as restic 0.16 writes it, restores the raw target", async () => {
    // restic 0.14 here cannot write one: the blob is written as design.rst and restic 0.16 specify.
    const repo = freshRepo();
    mkdirSync(repo.dir);
    const r = await Repository.init(openStore(repo.url), PASSWORD);
    const time = "2026-12-05T02:20:45.700622489Z";
    const blob = Buffer.from(
      `{"nodes":[{"name":"raw","type":"symlink","mode":134218239,"mtime":"${time}","atime":"${time}",` +
        `"ctime":"${time}","uid":0,"gid":0,"linktarget":"\\ufffd\\ufffd/x","linktarget_raw":"//4veA==",` +
        `"content":null}]}\n`,
    );
    const { id } = await r.saveBlob("tree", blob);
    await r.flush();
    const tree = await r.loadTree(id);
    assert.deepEqual(toBytes(tree.nodes[0]?.linktarget ?? ""), INVALID_TARGET);
    assert.deepEqual(encodeTree(tree), blob, "Arca writes the node back byte for byte");
    const target = join(scratch, uniqueName("out"));
    await restoreTree(r, id, target);
    r.close();
    assert.deepEqual(readlinkSync(join(target, "raw"), { encoding: "buffer" }), INVALID_TARGET);
  });
});
