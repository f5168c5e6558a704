// Snapshots, trees and nodes: the JSON documents restic defines, field for field.
import { fromBytes, hasRawBytes, toBytes } from "../common/byte-names.js";
import type { Id } from "./layout.js";

export interface SnapshotSummary {
  backup_start: string;
  backup_end: string;
  files_new: number;
  files_changed: number;
  files_unmodified: number;
  dirs_new: number;
  dirs_changed: number;
  dirs_unmodified: number;
  data_blobs: number;
  tree_blobs: number;
  data_added: number;
  data_added_packed: number;
  total_files_processed: number;
  total_bytes_processed: number;
}

export interface Snapshot {
  time: string;
  parent?: Id;
  tree: Id;
  paths: string[];
  hostname?: string;
  username?: string;
  uid?: number;
  gid?: number;
  excludes?: string[];
  tags?: string[];
  original?: Id;
  program_version?: string;
  summary?: SnapshotSummary;
}

export type NodeType = "file" | "dir" | "symlink" | "dev" | "chardev" | "fifo" | "socket" | "irregular";

export interface ExtendedAttribute {
  name: string;
  /** base64 */
  value: string;
}

/** A tree node. Optional fields are omitted when empty, as Go's omitempty does. */
export interface Node {
  name: string;
  type: NodeType;
  mode?: number;
  mtime?: string;
  atime?: string;
  ctime?: string;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  inode?: number;
  device_id?: number;
  size?: number;
  links?: number;
  /** Bytes that are not UTF-8 are held as common/byte-names.ts holds them. */
  linktarget?: string;
  /** base64: only in stored trees, when the target is not UTF-8 (restic 0.16 and later) */
  linktarget_raw?: string;
  extended_attributes?: ExtendedAttribute[];
  /** rdev of a device node */
  device?: number;
  content: Id[] | null;
  subtree?: Id;
}

export interface Tree {
  nodes: Node[];
}

// Go's os.FileMode bits, which restic stores in `mode`.
export const MODE_DIR = 0x80000000;
export const MODE_SYMLINK = 1 << 27;
export const MODE_DEVICE = 1 << 26;
export const MODE_NAMED_PIPE = 1 << 25;
export const MODE_SOCKET = 1 << 24;
export const MODE_SETUID = 1 << 23;
export const MODE_SETGID = 1 << 22;
export const MODE_CHAR_DEVICE = 1 << 21;
export const MODE_STICKY = 1 << 20;
export const MODE_PERM = 0o777;

/** The order of restic's Node struct, which json.Marshal keeps. */
const FIELD_ORDER: Array<keyof Node> = [
  "name",
  "type",
  "mode",
  "mtime",
  "atime",
  "ctime",
  "uid",
  "gid",
  "user",
  "group",
  "inode",
  "device_id",
  "size",
  "links",
  "linktarget",
  "linktarget_raw",
  "extended_attributes",
  "device",
  "content",
  "subtree",
];

/**
 * restic stores names as Go's strconv.Quote gives them, without the outer quotes: '"' and
 * '\\' are escaped, and so is anything not printable; a byte that is not UTF-8 is \xNN.
 * It unquotes them on reading. Names hold such bytes as common/byte-names.ts does.
 */
export function quoteName(name: string): string {
  // Fast path: printable ASCII without quote or backslash is its own quoted form.
  if (!/[^\x20-\x7e]|["\\]/.test(name)) return name;
  let out = "";
  for (const ch of name) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate: a raw byte, or (from no file system) what UTF-8 writes as U+FFFD.
      out += cp >= 0xdc80 && cp <= 0xdcff ? `\\x${(cp - 0xdc00).toString(16)}` : "\ufffd";
    } else if (cp < 0x20 || cp === 0x7f) out += SHORT_ESCAPES[ch] ?? `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) {
      out +=
        cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return out;
}

const SHORT_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

export function unquoteName(quoted: string): string {
  if (!quoted.includes("\\")) return quoted;
  const unescaped: Record<string, string> = {
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
    '"': '"',
    "\\": "\\",
    "'": "'",
  };
  let raw = false;
  const text = quoted.replace(
    /\\(x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g,
    (_m, e: string) => {
      if (e[0] === "x" || (e.length === 3 && /^[0-7]/.test(e))) {
        // One byte, as Go's strconv.Unquote gives it: the bytes are decoded together below.
        const byte = e[0] === "x" ? parseInt(e.slice(1), 16) : parseInt(e, 8);
        if (byte < 0x80) return String.fromCharCode(byte);
        if (byte > 0xff) return "\ufffd";
        raw = true;
        return String.fromCharCode(0xdc00 + byte);
      }
      if (e.length > 1) {
        const cp = parseInt(e.slice(1), 16);
        return cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? "\ufffd" : String.fromCodePoint(cp);
      }
      return unescaped[e] ?? e;
    },
  );
  return raw ? fromBytes(toBytes(text)) : text;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string from JSON as Go decodes it: an escaped lone surrogate is U+FFFD. */
function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, "\ufffd") : s;
}

/**
 * A node as it comes out of a tree blob, into the form Arca works with, as restic's
 * UnmarshalJSON does: the name unquoted, a raw symlink target in place of the lossy one.
 */
export function decodeNode(node: Node): void {
  node.name = unquoteName(wellFormed(node.name));
  if (typeof node.linktarget === "string") node.linktarget = wellFormed(node.linktarget);
  if (node.linktarget_raw !== undefined) {
    if (typeof node.linktarget_raw === "string")
      node.linktarget = fromBytes(Buffer.from(node.linktarget_raw, "base64"));
    delete node.linktarget_raw;
  }
}

function canonical(node: Node): Node {
  const out: Record<string, unknown> = {};
  let known = 0;
  for (const k of FIELD_ORDER) {
    if (!(k in node)) continue;
    known++;
    if (node[k] === undefined || k in out) continue;
    out[k] = k === "name" ? quoteName(node.name) : node[k];
    // restic 0.16 and later: a target that is not UTF-8 goes in linktarget_raw as well.
    if (k === "linktarget" && hasRawBytes(node.linktarget as string))
      out.linktarget_raw = toBytes(node.linktarget as string).toString("base64");
  }
  // Fields of newer restic versions that Arca does not know are kept, after the known ones.
  if (Object.keys(node).length > known)
    for (const [k, v] of Object.entries(node)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as Node;
}

/**
 * Nodes (or directory entries) in the byte order of their UTF-8 names. JavaScript compares
 * UTF-16 code units, which agrees with that order unless a name holds a surrogate pair; only
 * then are bytes compared.
 */
export function sortedByNameBytes<T extends { name: string }>(items: T[]): T[] {
  if (items.some((n) => SURROGATE.test(n.name))) {
    const keyed = items.map((n) => ({ n, key: toBytes(n.name) }));
    return keyed.sort((a, b) => Buffer.compare(a.key, b.key)).map(({ n }) => n);
  }
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
const SURROGATE = /[\ud800-\udfff]/;

/**
 * JSON as Go's encoder writes it: it also escapes <, >, & and the two Unicode line separators,
 * and writes a byte that is not UTF-8 (a raw byte of a symlink target) as \ufffd.
 */
function goJson(value: unknown): string {
  const json = JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return json.includes("\\udc") ? json.replace(/(?<!\\)((?:\\\\)*)\\udc[89a-f][0-9a-f]/g, "$1\\ufffd") : json;
}

/** One node as a tree blob holds it. */
export function encodeNode(node: Node): string {
  return goJson(canonical(node));
}

/** The fields that the file nodes of a generated tree share. */
export type SharedFileFields = Pick<Node, "mode" | "mtime" | "atime" | "ctime" | "uid" | "gid" | "links">;

/**
 * Encodes file nodes that differ only in name, size and content, byte for byte as encodeNode
 * would, without an object per node: a resource backup writes one per Kubernetes object.
 */
export function fileNodeEncoder(
  shared: SharedFileFields,
): (name: string, size: number, content: Id | Id[]) => string {
  const { mode, mtime, atime, ctime, uid, gid, links } = shared;
  const middle = `,"type":"file","mode":${mode},"mtime":${goJson(mtime)},"atime":${goJson(atime)},"ctime":${goJson(ctime)},"uid":${uid},"gid":${gid}`;
  const after = links ? `,"links":${links},"content":[` : `,"content":[`;
  return (name, size, content) =>
    `{"name":${goJson(quoteName(name))}${middle}${size ? `,"size":${size}` : ""}${after}${
      typeof content === "string" ? `"${content}"` : content.map((id) => `"${id}"`).join(",")
    }]}`;
}

/** A tree blob from nodes already encoded, given with their names: sorted by the names' bytes. */
export function encodeTreeOf(nodes: Array<{ name: string; json: string }>): Buffer {
  return Buffer.from(
    `{"nodes":[${sortedByNameBytes(nodes)
      .map((n) => n.json)
      .join(",")}]}\n`,
  );
}

/** Tree blobs: JSON plus a newline, as restic writes them, nodes sorted by name's bytes. */
export function encodeTree(tree: Tree): Buffer {
  return encodeTreeOf(tree.nodes.map((node) => ({ name: node.name, json: encodeNode(node) })));
}
