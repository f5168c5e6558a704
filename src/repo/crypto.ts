// restic's authenticated encryption: AES-256-CTR, then Poly1305-AES over the ciphertext.
//   ciphertext = IV (16) || AES-256-CTR(encKey, IV, plaintext) || MAC (16)
//   MAC = Poly1305_r(ciphertext without IV) + AES-128_k(IV)            (design.rst, "Keys")
import { randomBytes } from "node:crypto";
import { ArcaError } from "../common/errors.js";
import { native } from "../common/native.js";

export const IV_SIZE = 16;
export const MAC_SIZE = 16;
export const CRYPTO_OVERHEAD = IV_SIZE + MAC_SIZE;

/** The master key of a repository: one AES key for encryption, k and r for the MAC. */
export interface MasterKey {
  encrypt: Buffer; // 32 bytes
  macK: Buffer; // 16 bytes, the AES key applied to the nonce
  macR: Buffer; // 16 bytes, the Poly1305 r (clamped by Poly1305 itself)
}

export class AuthenticationError extends ArcaError {}

export function newMasterKey(): MasterKey {
  return { encrypt: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) };
}

/** The key as the addon takes it: encryption key, MAC k, MAC r; made once per key. */
const packedKeys = new WeakMap<MasterKey, Buffer>();

export function packedKey(key: MasterKey): Buffer {
  let bytes = packedKeys.get(key);
  if (!bytes) packedKeys.set(key, (bytes = Buffer.concat([key.encrypt, key.macK, key.macR])));
  return bytes;
}

/** Seals `plaintext` into `out` at `offset` (it needs CRYPTO_OVERHEAD more bytes); the length written. */
export function encryptInto(key: MasterKey, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
  return native.seal(packedKey(key), plaintext, out, offset);
}

export function encrypt(key: MasterKey, plaintext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + CRYPTO_OVERHEAD);
  native.seal(packedKey(key), plaintext, out, 0);
  return out;
}

/** Authenticates, then decrypts. `what` names the object for the error. */
export function decrypt(key: MasterKey, ciphertext: Uint8Array, what: string): Buffer {
  if (ciphertext.length < CRYPTO_OVERHEAD) {
    throw new AuthenticationError(
      `${what}: ciphertext of ${ciphertext.length} bytes is too short to be valid`,
    );
  }
  const out = Buffer.allocUnsafe(ciphertext.length - CRYPTO_OVERHEAD);
  if (!native.open(packedKey(key), ciphertext, out, 0)) {
    throw new AuthenticationError(
      `${what}: authentication failed (the data was modified or the key is wrong)`,
    );
  }
  return out;
}
