// FastCDC's boundaries are part of what a repository holds: a change to them would make every
// file look new to the next backup. The native scan must cut exactly where the gear hash says.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { FastCdc } from "../../src/snapshot/fastcdc.js";

const SIZES = { min: 2048, avg: 8192, max: 65536 };

/** The algorithm as written before it moved into the addon: the reference. */
function referenceCuts(seed: string, data: Uint8Array): number[] {
  const gear = new Int32Array(256);
  for (let i = 0; i < 256; i++)
    gear[i] = createHash("sha256").update(`arca-fastcdc:${seed}:${i}`).digest().readInt32LE(0);
  const top = (bits: number) => ((0xffffffff << (32 - bits)) >>> 0) | 0;
  const bits = Math.round(Math.log2(SIZES.avg));
  const [maskS, maskL] = [top(bits + 2), top(bits - 2)];
  const cuts: number[] = [];
  for (let start = 0; start < data.length;) {
    const available = data.length - start;
    let n = available;
    if (available > SIZES.min) {
      const limit = Math.min(available, SIZES.max);
      const normal = Math.min(limit, SIZES.avg);
      let h = 0;
      let i = SIZES.min;
      n = limit;
      for (; i < limit; i++) {
        h = ((h << 1) + (gear[data[start + i] as number] as number)) | 0;
        if ((h & (i < normal ? maskS : maskL)) === 0) {
          n = i + 1;
          break;
        }
      }
    }
    cuts.push(n);
    start += n;
  }
  return cuts;
}

function cuts(chunker: FastCdc, data: Uint8Array): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < data.length; pos += out.at(-1) as number)
    out.push(chunker.cut(data, pos, data.length));
  return out;
}

describe("FastCDC", () => {
  it("cuts where the reference gear hash does, on random and on repetitive data", () => {
    const seed = "0x3dea92648f6e83";
    const chunker = new FastCdc(seed, SIZES);
    const random = randomBytes(3 * 1024 * 1024);
    const text = Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(40_000));
    const zeros = Buffer.alloc(300_000);
    for (const data of [
      random,
      text,
      zeros,
      Buffer.concat([text.subarray(0, 5000), random.subarray(0, 90_000)]),
    ]) {
      const got = cuts(chunker, data);
      assert.deepEqual(got, referenceCuts(seed, data));
      assert.equal(
        got.reduce((a, b) => a + b, 0),
        data.length,
      );
    }
    // Random data meets the masks: chunks between the bounds, not all at the maximum.
    const sizes = cuts(chunker, random);
    assert.ok(sizes.length > (3 * 1024 * 1024) / SIZES.max, `${sizes.length} chunks`);
  });
});
