// "Unpacked" files: config, index, snapshots and locks, each one encrypted JSON document,
// stored under the SHA-256 of its encrypted bytes (config has a fixed name). In format v2
// the plaintext may start with the byte 0x02, meaning zstd-compressed JSON follows; plain
// JSON starts with '{' or '['.
import { ArcaError, messageOf } from "../common/errors.js";
import type { ObjectStore } from "../storage/index.js";
import { compress, decompress } from "./compression.js";
import { decrypt, encrypt, type MasterKey } from "./crypto.js";
import { fileKey, contentId, type FileType, type Id } from "./layout.js";

const COMPRESSED_V2 = 0x02;

export class CorruptFileError extends ArcaError {}

export function encodeUnpacked(key: MasterKey, value: unknown, compressed: boolean): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const plain = compressed ? Buffer.concat([Buffer.from([COMPRESSED_V2]), compress(json)]) : json;
  return encrypt(key, plain);
}

export function decodeUnpacked<T>(key: MasterKey, raw: Buffer, what: string): T {
  const plain = decrypt(key, raw, what);
  let json: Buffer;
  if (plain[0] === COMPRESSED_V2) json = decompress(plain.subarray(1), what);
  else if (plain[0] === 0x7b || plain[0] === 0x5b) json = plain;
  else
    throw new CorruptFileError(
      `${what}: unknown format byte 0x${(plain[0] ?? 0).toString(16)} (neither JSON nor zstd)`,
    );
  try {
    return JSON.parse(json.toString("utf8")) as T;
  } catch (err) {
    throw new CorruptFileError(`${what}: not valid JSON (${messageOf(err)})`);
  }
}

/** Writes a new file; returns its ID (the hash of the stored bytes). */
export async function saveUnpacked(
  store: ObjectStore,
  key: MasterKey,
  type: Exclude<FileType, "config" | "data" | "keys">,
  value: unknown,
  options: { compressed: boolean; signal?: AbortSignal },
): Promise<Id> {
  const raw = encodeUnpacked(key, value, options.compressed);
  const id = contentId(raw);
  await store.put(fileKey(type, id), raw, { signal: options.signal });
  return id;
}

/** Reads and checks a file: its bytes must hash to its ID, then authenticate. */
export async function loadUnpacked<T>(
  store: ObjectStore,
  key: MasterKey,
  type: Exclude<FileType, "config" | "data" | "keys">,
  id: Id,
  signal?: AbortSignal,
): Promise<T> {
  const what = `${type} file ${id.slice(0, 8)}`;
  const raw = await store.get(fileKey(type, id), { signal });
  if (contentId(raw) !== id)
    throw new CorruptFileError(`${what}: its content does not match its ID (damaged in storage)`);
  return decodeUnpacked<T>(key, raw, what);
}
