// Directory trees to back up, built from a short description, and a comparison of two trees
// by what a user checks after a restore: types, bytes, modes, times, links, xattrs.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
  chmod,
} from "node:fs/promises";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getXattr, listXattrs, setXattr } from "../../src/snapshot/xattr.js";

/** Extended attributes, set in this order (file systems may list them in it). */
export type Xattrs = Record<string, Buffer>;

export type Entry =
  | { kind: "file"; bytes: Buffer; mode?: number; mtime?: Date; xattrs?: Xattrs }
  | { kind: "sparse"; size: number; data: Buffer; at: number }
  | { kind: "dir"; mode?: number; xattrs?: Xattrs }
  | { kind: "symlink"; target: string; xattrs?: Xattrs }
  | { kind: "hardlink"; to: string }
  | { kind: "fifo"; xattrs?: Xattrs };

/** A tree that exercises what restic records: sizes across chunk boundaries, metadata, links. */
export function standardTree(): Record<string, Entry> {
  const text = Buffer.from(
    Array.from({ length: 60_000 }, (_, i) => `line ${i} of a compressible file\n`).join(""),
  );
  return {
    "empty.txt": { kind: "file", bytes: Buffer.alloc(0) },
    "small.txt": {
      kind: "file",
      bytes: Buffer.from("hello\n"),
      mode: 0o640,
      mtime: new Date("2024-02-29T12:34:56.789Z"),
      // not in name order, binary, and empty: restic keeps the listed order and "" values
      xattrs: {
        "user.zeta": Buffer.from([0, 0xff, 0x62]),
        "user.alpha": Buffer.from("hello"),
        "user.empty": Buffer.alloc(0),
      },
    },
    "docs/big-text.log": { kind: "file", bytes: text },
    "docs/nested/deeper/random.bin": { kind: "file", bytes: randomBytes(3 * 1024 * 1024 + 17) },
    "docs/script.sh": { kind: "file", bytes: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
    private: { kind: "dir", mode: 0o700, xattrs: { "user.comment": Buffer.from("keep out") } },
    "private/key": { kind: "file", bytes: Buffer.from("secret"), mode: 0o600 },
    "links/to-small": { kind: "symlink", target: "../small.txt" },
    "links/dangling": { kind: "symlink", target: "/nowhere/at/all" },
    "links/hard": { kind: "hardlink", to: "docs/script.sh" },
    pipe: { kind: "fifo" },
    "sparse.img": {
      kind: "sparse",
      size: 6 * 1024 * 1024,
      data: Buffer.from("in the middle"),
      at: 3 * 1024 * 1024,
    },
    "unicode/ünïcödé name.txt": { kind: "file", bytes: Buffer.from("ok") },
  };
}

/**
 * Sets xattrs on the path itself. A file system without them (ENOTSUP) leaves the tree
 * without: tests that need them check `xattrsSupported` first.
 */
function writeXattrs(path: string, xattrs: Xattrs | undefined): void {
  for (const [name, value] of Object.entries(xattrs ?? {})) {
    try {
      setXattr(path, name, value);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOTSUP") throw err;
    }
  }
}

/** Whether the file system under `dir` (which must exist) takes user.* xattrs. */
export function xattrsSupported(dir: string): boolean {
  const probe = join(dir, `.xattr-probe-${process.pid}`);
  writeFileSync(probe, "");
  try {
    setXattr(probe, "user.probe", Buffer.from("1"));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe);
  }
}

export async function writeTree(root: string, entries: Record<string, Entry>): Promise<void> {
  await mkdir(root, { recursive: true });
  const later: Array<() => Promise<void>> = [];
  for (const [path, entry] of Object.entries(entries)) {
    const full = join(root, path);
    await mkdir(join(full, ".."), { recursive: true });
    switch (entry.kind) {
      case "file":
        await writeFile(full, entry.bytes);
        writeXattrs(full, entry.xattrs);
        if (entry.mode !== undefined) await chmod(full, entry.mode);
        if (entry.mtime) await utimes(full, entry.mtime, entry.mtime);
        break;
      case "sparse": {
        const h = await open(full, "w");
        await h.write(entry.data, 0, entry.data.length, entry.at);
        await h.truncate(entry.size);
        await h.close();
        break;
      }
      case "dir":
        await mkdir(full, { recursive: true });
        writeXattrs(full, entry.xattrs);
        if (entry.mode !== undefined) later.push(() => chmod(full, entry.mode as number));
        break;
      case "symlink":
        await symlink(entry.target, full);
        writeXattrs(full, entry.xattrs);
        break;
      case "hardlink":
        later.push(() => link(join(root, entry.to), full));
        break;
      case "fifo":
        execFileSync("mkfifo", [full]);
        writeXattrs(full, entry.xattrs);
        break;
    }
  }
  for (const step of later) await step();
}

export interface Described {
  type: string;
  mode: number;
  size?: number;
  sha256?: string;
  target?: string;
  /** mtime in nanoseconds since the epoch: restores keep every one of them. */
  mtimeNs?: string;
  /** Index of the hard-link group, for files with more than one name. */
  linkGroup?: string;
  /** Extended attributes, values in base64; left out when there are none. */
  xattrs?: Record<string, string>;
}

/** A path's xattrs, or undefined when it has none (or its file system has no xattrs). */
export function readXattrs(path: string): Record<string, string> | undefined {
  let names: string[];
  try {
    names = listXattrs(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOTSUP") return undefined;
    throw err;
  }
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.map((name) => [name, getXattr(path, name).toString("base64")]));
}

/**
 * Every entry under root by relative path; directories' times are left out (restores touch
 * them), and so are symlinks' xattrs (restic 0.14, and Arca with it, does not record them).
 */
export async function describeTree(root: string): Promise<Record<string, Described>> {
  const out: Record<string, Described> = {};
  const inodes = new Map<bigint, string>();
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(full, { bigint: true });
      const mode = Number(st.mode) & 0o7777;
      const xattrs = st.isSymbolicLink() ? undefined : readXattrs(full);
      if (st.isDirectory()) {
        out[path] = { type: "dir", mode, ...(xattrs && { xattrs }) };
        await walk(full, path);
      } else if (st.isSymbolicLink()) {
        out[path] = { type: "symlink", mode: 0, target: await readlink(full) };
      } else if (st.isFIFO()) {
        out[path] = { type: "fifo", mode, mtimeNs: String(st.mtimeNs), ...(xattrs && { xattrs }) };
      } else if (st.isFile()) {
        const d: Described = {
          type: "file",
          mode,
          size: Number(st.size),
          sha256: createHash("sha256")
            .update(await readFile(full))
            .digest("hex"),
          mtimeNs: String(st.mtimeNs),
          ...(xattrs && { xattrs }),
        };
        if (st.nlink > 1n) {
          const first = inodes.get(st.ino) ?? path;
          inodes.set(st.ino, first);
          d.linkGroup = first;
        }
        out[path] = d;
      } else {
        out[path] = { type: "other", mode };
      }
    }
  };
  await walk(root, "");
  return out;
}

/** Blocks actually allocated to a file, to see that a restore kept it sparse. */
export async function allocatedBytes(path: string): Promise<number> {
  return Number((await lstat(path)).blocks) * 512;
}

/** Asserts two described trees are the same, times to the nanosecond. */
export function assertSameTree(
  actual: Record<string, Described>,
  expected: Record<string, Described>,
  message?: string,
): void {
  assert.deepEqual(actual, expected, message);
}
