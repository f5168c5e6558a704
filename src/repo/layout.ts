// Where each kind of file lives in a repository (restic's default layout), and IDs.
import { createHash, hash } from "node:crypto";
import { byteLength, joined, type Bytes } from "../common/bytes.js";
import { ArcaError } from "../common/errors.js";
import { native } from "../common/native.js";

export type FileType = "config" | "keys" | "locks" | "snapshots" | "index" | "data";

/** A 32-byte SHA-256, as 64 lower-case hex digits. */
export type Id = string;

export const ID_PATTERN = /^[0-9a-f]{64}$/;

export function parseId(text: string, what = "ID"): Id {
  const id = text.trim().toLowerCase();
  if (!ID_PATTERN.test(id))
    throw new ArcaError(`invalid ${what} ${JSON.stringify(text)}: expected 64 hex digits`);
  return id;
}

export function idOf(hash: Buffer): Id {
  return hash.toString("hex");
}

/** The ID of some bytes: their SHA-256. One-shot hashing costs a third of a Hash object's for
 * the small blobs that resource backups are made of; pieces are hashed in the addon. */
export function contentId(data: Bytes): Id {
  if (!(data instanceof Uint8Array)) {
    if (data.length <= 4 && byteLength(data) <= ONE_SHOT_MAX) return native.sha256Hex(...data);
    data = joined(data);
  }
  if (data.length <= ONE_SHOT_MAX) return hash("sha256", data, "hex");
  const h = createHash("sha256");
  for (let i = 0; i < data.length; i += ONE_SHOT_MAX) h.update(data.subarray(i, i + ONE_SHOT_MAX));
  return h.digest("hex");
}
const ONE_SHOT_MAX = 4 * 1024 * 1024;

export function fileKey(type: FileType, id?: Id): string {
  if (type === "config") return "config";
  if (!id) throw new Error(`a ${type} file needs an ID`);
  return type === "data" ? `data/${id.slice(0, 2)}/${id}` : `${type}/${id}`;
}

/** The ID at the end of a listed key, if the key is a file of that type. */
export function idFromKey(key: string): Id | undefined {
  const name = key.slice(key.lastIndexOf("/") + 1);
  return ID_PATTERN.test(name) ? name : undefined;
}

export function listPrefix(type: Exclude<FileType, "config">): string {
  return `${type}/`;
}

/** An unambiguous short form, as restic prints it. */
export function shortId(id: Id): string {
  return id.slice(0, 8);
}
