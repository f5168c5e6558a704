// restic's authenticated encryption: AES-256-CTR, then Poly1305-AES over the ciphertext.
//   ciphertext = IV (16) || AES-256-CTR(encKey, IV, plaintext) || MAC (16)
//   MAC = Poly1305_r(ciphertext without IV) + AES-128_k(IV)            (design.rst, "Keys")
import { createCipheriv, createDecipheriv, randomBytes, type Cipher } from "node:crypto";
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

// node:crypto is several times faster on 64 KiB slices than on one large buffer.
const SLICE = 64 * 1024;

function ctr(key: Buffer, iv: Buffer, input: Uint8Array, out: Buffer, outOffset: number): void {
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  let at = outOffset;
  for (let i = 0; i < input.length; i += SLICE) {
    const chunk = cipher.update(input.subarray(i, i + SLICE));
    chunk.copy(out, at);
    at += chunk.length;
  }
  const tail = cipher.final();
  tail.copy(out, at);
}

/**
 * One AES-128-ECB cipher per MAC key, kept: ECB encrypts each 16-byte block on its own, so
 * the same cipher serves every nonce, and creating one cost as much as sealing a 1 KiB blob.
 */
const nonceCiphers = new WeakMap<Buffer, Cipher>();

function mac(key: MasterKey, iv: Buffer, data: Uint8Array): Buffer {
  // s = AES-128_k(nonce); Poly1305's one-time key is r || s.
  let aes = nonceCiphers.get(key.macK);
  if (!aes) {
    aes = createCipheriv("aes-128-ecb", key.macK, null).setAutoPadding(false);
    nonceCiphers.set(key.macK, aes);
  }
  const s = aes.update(iv);
  const polyKey = Buffer.concat([key.macR, s]);
  return native.poly1305(data, polyKey);
}

export function encrypt(key: MasterKey, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(IV_SIZE);
  const out = Buffer.allocUnsafe(plaintext.length + CRYPTO_OVERHEAD);
  iv.copy(out, 0);
  ctr(key.encrypt, iv, plaintext, out, IV_SIZE);
  const tag = mac(key, iv, out.subarray(IV_SIZE, IV_SIZE + plaintext.length));
  out.set(tag, IV_SIZE + plaintext.length);
  return out;
}

/** Authenticates, then decrypts. `what` names the object for the error. */
export function decrypt(key: MasterKey, ciphertext: Uint8Array, what: string): Buffer {
  if (ciphertext.length < CRYPTO_OVERHEAD) {
    throw new AuthenticationError(
      `${what}: ciphertext of ${ciphertext.length} bytes is too short to be valid`,
    );
  }
  const buf = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
  const iv = buf.subarray(0, IV_SIZE);
  const body = buf.subarray(IV_SIZE, buf.length - MAC_SIZE);
  const tag = buf.subarray(buf.length - MAC_SIZE);
  if (!mac(key, iv, body).equals(tag)) {
    throw new AuthenticationError(
      `${what}: authentication failed (the data was modified or the key is wrong)`,
    );
  }
  const out = Buffer.allocUnsafe(body.length);
  const decipher = createDecipheriv("aes-256-ctr", key.encrypt, iv);
  let at = 0;
  for (let i = 0; i < body.length; i += SLICE) {
    const chunk = decipher.update(body.subarray(i, i + SLICE));
    chunk.copy(out, at);
    at += chunk.length;
  }
  decipher.final().copy(out, at);
  return out;
}
