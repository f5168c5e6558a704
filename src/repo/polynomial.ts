// The repository's chunker polynomial: a random irreducible polynomial of degree 53 over
// GF(2), as restic's Rabin chunker wants. Arca chunks with FastCDC (seeded by it), but restic
// reads the polynomial from the config to write into the same repository.
import { randomBytes } from "node:crypto";

const DEGREE = 53;

function deg(p: bigint): number {
  return p === 0n ? -1 : p.toString(2).length - 1;
}

function mod(a: bigint, m: bigint): bigint {
  const dm = deg(m);
  for (let d = deg(a); d >= dm; d = deg(a)) a ^= m << BigInt(d - dm);
  return a;
}

function mulMod(a: bigint, b: bigint, m: bigint): bigint {
  let result = 0n;
  while (b > 0n) {
    if (b & 1n) result ^= a;
    b >>= 1n;
    a = mod(a << 1n, m);
  }
  return mod(result, m);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, mod(a, b)];
  return a;
}

/** Ben-Or: f is irreducible iff gcd(f, x^(2^i) - x mod f) = 1 for every i ≤ deg/2. */
export function isIrreducible(f: bigint): boolean {
  let x2i = 2n; // the polynomial x
  for (let i = 1; i <= deg(f) / 2; i++) {
    x2i = mulMod(x2i, x2i, f); // x^(2^i)
    if (gcd(f, x2i ^ 2n) !== 1n) return false;
  }
  return true;
}

export function randomPolynomial(): bigint {
  for (;;) {
    const bytes = randomBytes(8);
    // Degree exactly 53, and a constant term (else x divides it).
    let p = bytes.readBigUInt64LE(0) & ((1n << BigInt(DEGREE + 1)) - 1n);
    p |= (1n << BigInt(DEGREE)) | 1n;
    if (isIrreducible(p)) return p;
  }
}

export function formatPolynomial(p: bigint): string {
  return p.toString(16);
}
