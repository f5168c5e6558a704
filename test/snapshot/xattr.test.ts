// Extended attributes: the native calls and their errors, what a backup does when some cannot
// be read, what a restore does when the target refuses some, and incremental backups.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Progress } from "../../src/common/progress.js";
import { formatTime } from "../../src/repo/time.js";
import type { Node } from "../../src/repo/model.js";
import { native } from "../../src/common/native.js";
import { Repository } from "../../src/repo/repository.js";
import { backupDirectory } from "../../src/snapshot/archiver.js";
import { nodeAt } from "../../src/snapshot/reader.js";
import { restoreTree } from "../../src/snapshot/restorer.js";
import { getXattr, listXattrs, setXattr, type XattrError } from "../../src/snapshot/xattr.js";
import { openStore } from "../../src/storage/index.js";
import { readXattrs, xattrsSupported } from "../support/fixture-tree.js";
import { uniqueName } from "../support/wait.js";

const root = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), "arca-xattr-"));
const supported = xattrsSupported(scratch);
const skip = supported ? false : "no user.* xattrs on this file system";
after(() => rmSync(scratch, { recursive: true, force: true }));

function fsError(code: string, syscall: string, path: string): XattrError {
  return Object.assign(new Error(`${code}: refused, ${syscall} '${path}'`), { code, syscall, path });
}

async function freshRepo(): Promise<Repository> {
  const dir = join(scratch, uniqueName("repo"));
  mkdirSync(dir);
  return Repository.init(openStore(`file://${dir}`), "pw");
}

function recorder(): Progress & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, update() {}, warning: (m) => warnings.push(m) };
}

describe("xattr calls", { skip }, () => {
  it("list, get and set, in the file system's order, binary and empty values", () => {
    const file = join(scratch, uniqueName("f"));
    writeFileSync(file, "x");
    assert.deepEqual(listXattrs(file), []);
    setXattr(file, "user.b", Buffer.from([0, 1, 0xff]));
    setXattr(file, "user.a", new Uint8Array(0));
    assert.deepEqual([...listXattrs(file)].sort(), ["user.a", "user.b"]);
    assert.deepEqual(getXattr(file, "user.b"), Buffer.from([0, 1, 0xff]));
    assert.deepEqual(getXattr(file, "user.a"), Buffer.alloc(0));
    setXattr(file, "user.b", Buffer.from("replaced"));
    assert.equal(getXattr(file, "user.b").toString(), "replaced");
  });

  it("throw Node-style errors with the errno code, never crash", () => {
    const file = join(scratch, uniqueName("f"));
    writeFileSync(file, "x");
    const link = `${file}.link`;
    symlinkSync(file, link);
    const expectError = (
      fn: () => unknown,
      code: string,
      syscall: string,
      path: string,
      attribute?: string,
    ) =>
      assert.throws(fn, (err: XattrError) => {
        assert.equal(err.code, code);
        assert.equal(err.syscall, syscall);
        assert.equal(err.path, path);
        assert.equal(err.attribute, attribute);
        assert.equal(typeof err.errno, "number");
        assert.match(err.message, new RegExp(`^${code}: .*, ${syscall} '`));
        return true;
      });
    expectError(() => getXattr(file, "user.none"), "ENODATA", "lgetxattr", file, "user.none");
    expectError(() => listXattrs(join(scratch, "missing")), "ENOENT", "llistxattr", join(scratch, "missing"));
    // No such namespace: the kernel answers EOPNOTSUPP, which Node calls ENOTSUP.
    expectError(
      () => setXattr(file, "bogus.name", Buffer.from("1")),
      "ENOTSUP",
      "lsetxattr",
      file,
      "bogus.name",
    );
    // user.* is for regular files and directories: on the link itself, refused.
    expectError(() => setXattr(link, "user.x", Buffer.from("1")), "EPERM", "lsetxattr", link, "user.x");
    assert.throws(() => native.lgetxattr(file, 3 as unknown as string), TypeError);
    assert.throws(() => native.lsetxattr(file, "user.x", "text" as unknown as Uint8Array), TypeError);
    assert.throws(() => native.llistxattr("a\0b"), TypeError);
  });

  it("work on a symlink itself, never its target", { skip: !root && "trusted.* needs root" }, () => {
    const file = join(scratch, uniqueName("f"));
    writeFileSync(file, "x");
    const link = `${file}.link`;
    symlinkSync(file, link);
    setXattr(link, "trusted.on-link", Buffer.from("L"));
    assert.deepEqual(listXattrs(link), ["trusted.on-link"]);
    assert.deepEqual(listXattrs(file), []);
    assert.equal(getXattr(link, "trusted.on-link").toString(), "L");
  });
});

describe("backup with xattrs", { skip }, () => {
  let source: string;
  before(() => {
    source = join(scratch, uniqueName("source"));
    mkdirSync(join(source, "dir"), { recursive: true });
    writeFileSync(join(source, "a.txt"), "a");
    writeFileSync(join(source, "b.txt"), "b");
    setXattr(join(source, "a.txt"), "user.one", Buffer.from("1"));
    setXattr(join(source, "a.txt"), "user.two", Buffer.from("2"));
    setXattr(join(source, "b.txt"), "user.b", Buffer.from("b"));
    setXattr(join(source, "dir"), "user.d", Buffer.from("d"));
  });

  it("an unreadable attribute or list is a warning; the entry and the rest are kept", async (t) => {
    const list = native.llistxattr;
    const get = native.lgetxattr;
    const denied = join(source, "b.txt");
    t.mock.method(native, "llistxattr", (path: string) => {
      if (path === denied) throw fsError("EACCES", "llistxattr", path);
      if (path === join(source, "dir")) throw fsError("ENOTSUP", "llistxattr", path);
      return list(path);
    });
    t.mock.method(native, "lgetxattr", (path: string, name: string) => {
      if (name === "user.two") throw fsError("EACCES", "lgetxattr", path);
      return get(path, name);
    });
    const repo = await freshRepo();
    try {
      const progress = recorder();
      const { snapshot, warnings } = await backupDirectory(repo, source, { progress });
      assert.deepEqual(warnings, [
        `${join(source, "a.txt")}: EACCES: refused, lgetxattr '${join(source, "a.txt")}' (extended attribute user.two not recorded)`,
        `${denied}: EACCES: refused, llistxattr '${denied}' (extended attributes not recorded)`,
      ]);
      assert.deepEqual(progress.warnings, warnings);
      const a = await nodeAt(repo, snapshot.tree, join(source, "a.txt"));
      assert.deepEqual(a?.extended_attributes, [{ name: "user.one", value: "MQ==" }]);
      const b = await nodeAt(repo, snapshot.tree, denied);
      assert.equal(b?.content?.length, 1, "the file itself is backed up");
      assert.ok(b && !("extended_attributes" in b));
      // ENOTSUP is "none here", as restic takes it: no warning.
      const dir = await nodeAt(repo, snapshot.tree, join(source, "dir"));
      assert.ok(dir && !("extended_attributes" in dir));
    } finally {
      repo.close();
    }
  });

  it("incremental: unchanged files keep their xattrs; a changed xattr (new ctime) is re-read", async () => {
    const repo = await freshRepo();
    try {
      const first = await backupDirectory(repo, source);
      assert.deepEqual(first.warnings, []);
      setXattr(join(source, "a.txt"), "user.two", Buffer.from("changed"));
      const second = await backupDirectory(repo, source, { parent: first.id });
      assert.equal(second.snapshot.summary?.files_unmodified, 1);
      assert.equal(second.snapshot.summary?.files_changed, 1);
      const a = await nodeAt(repo, second.snapshot.tree, join(source, "a.txt"));
      assert.deepEqual(Object.fromEntries((a?.extended_attributes ?? []).map((x) => [x.name, x.value])), {
        "user.one": "MQ==",
        "user.two": Buffer.from("changed").toString("base64"),
      });
      const b = await nodeAt(repo, second.snapshot.tree, join(source, "b.txt"));
      assert.deepEqual(b?.extended_attributes, [{ name: "user.b", value: "Yg==" }]);
      const dir = await nodeAt(repo, second.snapshot.tree, join(source, "dir"));
      assert.deepEqual(dir?.extended_attributes, [{ name: "user.d", value: "ZA==" }]);
    } finally {
      repo.close();
    }
  });
});

describe("restore with xattrs", { skip }, () => {
  it("an attribute the target refuses is a warning naming file and attribute; the rest is restored", async () => {
    const repo = await freshRepo();
    const time = formatTime(new Date("2024-01-02T03:04:05Z"));
    const meta = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 };
    const { id: blob } = await repo.saveBlob("data", Buffer.from("content"));
    const attr = (name: string, value: string) => ({ name, value: Buffer.from(value).toString("base64") });
    const nodes: Node[] = [
      {
        name: "file",
        type: "file",
        mode: 0o444,
        ...meta,
        size: 7,
        // bogus.*: no such namespace (ENOTSUP); the others still go on, before the read-only mode
        extended_attributes: [attr("user.first", "1"), attr("bogus.x", "2"), attr("user.last", "3")],
        content: [blob],
      },
      {
        name: "link",
        type: "symlink",
        mode: 0o777 | (1 << 27),
        ...meta,
        linktarget: "file",
        // as restic >= 0.16 records them: user.* is refused on a symlink (EPERM)
        extended_attributes: [attr("user.x", "4"), ...(root ? [attr("trusted.t", "5")] : [])],
        content: null,
      },
    ];
    const tree = await repo.saveTree({ nodes });
    await repo.flush();
    const target = join(scratch, uniqueName("out"));
    const progress = recorder();
    try {
      await restoreTree(repo, tree, target, { progress });
    } finally {
      repo.close();
    }
    const file = join(target, "file");
    const link = join(target, "link");
    assert.equal(readFileSync(file, "utf8"), "content");
    // entries are restored in parallel: warnings come in any order
    assert.deepEqual(progress.warnings.sort(), [
      `${file}: extended attribute bogus.x not restored: ENOTSUP: operation not supported, lsetxattr '${file}'`,
      `${link}: extended attribute user.x not restored: EPERM: operation not permitted, lsetxattr '${link}'`,
    ]);
    assert.deepEqual(readXattrs(file), { "user.first": "MQ==", "user.last": "Mw==" });
    if (root) assert.deepEqual(readXattrs(link), { "trusted.t": "NQ==" });
  });
});
