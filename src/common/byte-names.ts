// File names and symlink targets are bytes, which need not be UTF-8; Arca's names are strings.
// Bytes that are valid UTF-8 are their decoded string. Each byte that starts no valid UTF-8
// sequence (as Go's utf8 package decides) becomes a lone surrogate U+DC80..U+DCFF, as
// Python's "surrogateescape" does: decoded UTF-8 never holds one, so the mapping is one to one,
// and such names join, compare and sort as strings. Only the file system calls see the bytes.

const RAW_BYTE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;
const RAW_BYTES = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/** Whether `s` holds bytes that are not UTF-8. */
export function hasRawBytes(s: string): boolean {
  return RAW_BYTE.test(s);
}

/** Length of the valid UTF-8 sequence at `i`, or 0 if the byte there starts none. */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => {
    const x = b[i + j];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf; // no UTF-16 surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf; // nothing past U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** A name's string from its bytes. */
export function fromBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString("utf8");
  // Invalid bytes decode to U+FFFD; without one, the bytes were valid.
  if (!text.includes("\ufffd")) return text;
  let out = "";
  let start = 0;
  for (let i = 0; i < buf.length;) {
    const n = sequenceAt(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString("utf8", start, i) + String.fromCharCode(0xdc00 + (buf[i] as number));
    start = ++i;
  }
  return out + buf.toString("utf8", start);
}

/** A name's bytes. */
export function toBytes(s: string): Buffer {
  if (!hasRawBytes(s)) return Buffer.from(s);
  const parts: Buffer[] = [];
  let start = 0;
  for (const m of s.matchAll(RAW_BYTES)) {
    const at = m.index;
    parts.push(Buffer.from(s.slice(start, at)), Buffer.of(s.charCodeAt(at) - 0xdc00));
    start = at + 1;
  }
  parts.push(Buffer.from(s.slice(start)));
  return Buffer.concat(parts);
}

/** What to hand the file system for a path: the string itself while it is UTF-8. */
export function fsPath(s: string): string | Buffer {
  return hasRawBytes(s) ? toBytes(s) : s;
}

/** A path for messages: bytes that are not UTF-8 shown as \xNN, as restic shows them. */
export function printable(s: string): string {
  return hasRawBytes(s)
    ? s.replace(RAW_BYTES, (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, "0")}`)
    : s;
}
