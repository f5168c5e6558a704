// Bytes in one piece, or in pieces that are hashed and stored as if joined: a listed object
// is its page's bytes behind a short prefix, and joining them held a second copy of every page.

export type Bytes = Uint8Array | readonly Uint8Array[];

/** The bytes in one piece: joined only when they are in several. */
export function joined(data: Bytes): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return data.length === 1 ? (data[0] as Uint8Array) : Buffer.concat(data);
}

export const byteLength = (data: Bytes): number =>
  data instanceof Uint8Array ? data.length : data.reduce((n, part) => n + part.length, 0);
