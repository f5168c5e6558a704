// Key files (keys/<id>): a password opens one of them, which holds the repository's master
// key encrypted with a key derived from the password by scrypt.
import { hostname, userInfo } from "node:os";
import { randomBytes, scrypt as scryptCb } from "node:crypto";
import { ArcaError } from "../common/errors.js";
import { AuthenticationError, decrypt, encrypt, type MasterKey } from "./crypto.js";
import { formatTime } from "./time.js";

export interface KeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** restic's minimum (N=2^15, r=8, p=1): about 0.1 s and 32 MiB here. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<MasterKey> {
  // scrypt needs 128·N·r bytes; key files written by others may ask for far more than the default.
  const maxmem = 256 * params.N * params.r + 16 * 1024 * 1024;
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, 64, { ...params, maxmem }, (err, key) => {
      if (err)
        reject(new ArcaError(`deriving the key from the password (scrypt N=${params.N}): ${err.message}`));
      else resolve({ encrypt: key.subarray(0, 32), macK: key.subarray(32, 48), macR: key.subarray(48, 64) });
    }),
  );
}

interface MasterKeyJson {
  mac: { k: string; r: string };
  encrypt: string;
}

function parseKeyFile(raw: Buffer, what: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ArcaError(`${what} is not a JSON key file`);
  }
  const k = json as Partial<KeyFile>;
  if (k.kdf !== "scrypt" || typeof k.N !== "number" || typeof k.r !== "number" || typeof k.p !== "number") {
    throw new ArcaError(`${what}: unsupported key derivation ${String(k.kdf)} (only scrypt is known)`);
  }
  if (typeof k.salt !== "string" || typeof k.data !== "string")
    throw new ArcaError(`${what}: salt or data missing`);
  return k as KeyFile;
}

/** Encrypts the master key under a new password, as a new key file's bytes. */
export async function createKeyFile(
  master: MasterKey,
  password: string,
  params = DEFAULT_SCRYPT,
): Promise<Buffer> {
  const salt = randomBytes(64);
  const user = await derive(password, salt, params);
  const secret: MasterKeyJson = {
    mac: { k: master.macK.toString("base64"), r: master.macR.toString("base64") },
    encrypt: master.encrypt.toString("base64"),
  };
  const file: KeyFile = {
    created: formatTime(new Date()),
    username: safeUser(),
    hostname: hostname(),
    kdf: "scrypt",
    ...params,
    salt: salt.toString("base64"),
    data: encrypt(user, Buffer.from(JSON.stringify(secret))).toString("base64"),
  };
  return Buffer.from(JSON.stringify(file, null, 2));
}

/** The master key, if `password` opens this key file; undefined if it does not. */
export async function openKeyFile(
  raw: Buffer,
  password: string,
  what: string,
): Promise<MasterKey | undefined> {
  const file = parseKeyFile(raw, what);
  const user = await derive(password, Buffer.from(file.salt, "base64"), file);
  let plain: Buffer;
  try {
    plain = decrypt(user, Buffer.from(file.data, "base64"), what);
  } catch (err) {
    if (err instanceof AuthenticationError) return undefined;
    throw err;
  }
  const secret = JSON.parse(plain.toString("utf8")) as MasterKeyJson;
  return {
    encrypt: Buffer.from(secret.encrypt, "base64"),
    macK: Buffer.from(secret.mac.k, "base64"),
    macR: Buffer.from(secret.mac.r, "base64"),
  };
}

export function describeKeyFile(
  raw: Buffer,
  what: string,
): Pick<KeyFile, "created" | "username" | "hostname"> {
  const { created, username, hostname } = parseKeyFile(raw, what);
  return { created, username, hostname };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}
