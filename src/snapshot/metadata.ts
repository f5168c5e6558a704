// File metadata as restic records it in tree nodes, from lstat, and back.
import type { BigIntStats } from "node:fs";
import { readFileSync } from "node:fs";
import {
  MODE_CHAR_DEVICE,
  MODE_DEVICE,
  MODE_DIR,
  MODE_NAMED_PIPE,
  MODE_SETGID,
  MODE_SETUID,
  MODE_SOCKET,
  MODE_STICKY,
  MODE_SYMLINK,
  type ExtendedAttribute,
  type Node,
  type NodeType,
} from "../repo/model.js";
import { native } from "../common/native.js";
import { formatTimeNs, parseTimeNs, secondsAndNanos } from "../repo/time.js";

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

export function nodeType(stat: BigIntStats): NodeType {
  switch (Number(stat.mode) & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFBLK:
      return "dev";
    case S_IFCHR:
      return "chardev";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "irregular";
  }
}

/** Unix st_mode to Go's os.FileMode, which is what restic stores. */
export function goFileMode(stat: BigIntStats): number {
  const mode = Number(stat.mode);
  let m = mode & 0o777;
  if (mode & 0o4000) m |= MODE_SETUID;
  if (mode & 0o2000) m |= MODE_SETGID;
  if (mode & 0o1000) m |= MODE_STICKY;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      m |= MODE_DIR;
      break;
    case S_IFLNK:
      m |= MODE_SYMLINK;
      break;
    case S_IFBLK:
      m |= MODE_DEVICE;
      break;
    case S_IFCHR:
      m |= MODE_DEVICE | MODE_CHAR_DEVICE;
      break;
    case S_IFIFO:
      m |= MODE_NAMED_PIPE;
      break;
    case S_IFSOCK:
      m |= MODE_SOCKET;
      break;
  }
  return m >>> 0;
}

/** Go's os.FileMode back to the permission bits chmod takes. */
export function unixPermissions(goMode: number): number {
  let m = goMode & 0o777;
  if (goMode & MODE_SETUID) m |= 0o4000;
  if (goMode & MODE_SETGID) m |= 0o2000;
  if (goMode & MODE_STICKY) m |= 0o1000;
  return m;
}

function nameTable(file: string): Map<number, string> {
  const table = new Map<number, string>();
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name && id && /^\d+$/.test(id)) table.set(Number(id), name);
    }
  } catch {
    // no such database: names stay empty, as restic leaves them
  }
  return table;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

/**
 * The node for a file system entry, without content or subtree. Fields are set in the order
 * of restic's Node struct and empty ones left out as its omitempty tags do, so that a tree
 * Arca writes for unchanged files is byte for byte the tree restic wrote.
 */
export function nodeFromStat(
  name: string,
  stat: BigIntStats,
  extendedAttributes?: ExtendedAttribute[],
): Node {
  users ??= nameTable("/etc/passwd");
  groups ??= nameTable("/etc/group");
  const type = nodeType(stat);
  const node: Node = {
    name,
    type,
    mode: goFileMode(stat),
    mtime: formatTimeNs(stat.mtimeNs),
    // restic records atime as mtime (unless --with-atime): reading a file must not make its
    // tree differ from the last backup's.
    atime: formatTimeNs(stat.mtimeNs),
    ctime: formatTimeNs(stat.ctimeNs),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    user: users.get(Number(stat.uid)),
    group: groups.get(Number(stat.gid)),
    inode: Number(stat.ino) || undefined,
    device_id: Number(stat.dev) || undefined,
    size: type === "file" && stat.size > 0n ? Number(stat.size) : undefined,
    links:
      type === "file" || type === "symlink" || type === "dev" || type === "chardev"
        ? Number(stat.nlink)
        : undefined,
    extended_attributes: extendedAttributes,
    device: (type === "dev" || type === "chardev") && stat.rdev > 0n ? Number(stat.rdev) : undefined,
    content: null,
  };
  for (const k of Object.keys(node) as Array<keyof Node>) if (node[k] === undefined) delete node[k];
  return node;
}

/** Equal instants, whatever time zone each was written in. */
function sameTime(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  try {
    return parseTimeNs(a) === parseTimeNs(b);
  } catch {
    return false;
  }
}

/** Whether a file is unchanged since the parent snapshot, without reading it (restic's rule). */
export function unchanged(node: Node, previous: Node | undefined): boolean {
  return (
    previous !== undefined &&
    previous.type === "file" &&
    (previous.size ?? 0) === (node.size ?? 0) &&
    sameTime(previous.mtime, node.mtime) &&
    sameTime(previous.ctime, node.ctime) &&
    previous.inode === node.inode &&
    Array.isArray(previous.content)
  );
}

/** Sets a restored entry's times to the nanosecond (a symlink's own, not its target's). */
export function setTimes(path: string | Buffer, atime: string, mtime: string): void {
  const [aSec, aNsec] = secondsAndNanos(parseTimeNs(atime));
  const [mSec, mNsec] = secondsAndNanos(parseTimeNs(mtime));
  native.lutimens(path, aSec, aNsec, mSec, mNsec);
}
