// Bytes in pieces, and memory handed back early.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { byteLength, copyInto, joined, release } from "../../src/common/bytes.js";

describe("bytes", () => {
  it("joins pieces only when there are several", () => {
    const one = Buffer.from("abc");
    assert.equal(joined([one]), one);
    assert.deepEqual(Buffer.from(joined([Buffer.from("ab"), Buffer.from("c")])), one);
    assert.equal(byteLength([Buffer.from("ab"), Buffer.from("cde")]), 5);
  });

  it("copies pieces in, joined, at an offset, and says where they end", () => {
    const target = Buffer.alloc(8, "-");
    assert.equal(copyInto([Buffer.from("ab"), Buffer.from("cde")], target, 1), 6);
    assert.equal(copyInto(Buffer.from("f"), target, 6), 7);
    assert.equal(target.toString(), "-abcdef-");
  });

  it("release leaves every view of the memory empty, so nothing reads it afterwards", () => {
    const whole = Buffer.allocUnsafeSlow(1 << 20).fill(7);
    const view = whole.subarray(10, 20);
    release(whole.buffer);
    assert.equal(whole.length, 0);
    assert.equal(view.length, 0);
    assert.equal(whole.buffer.byteLength, 0);
  });

  it("release leaves shared memory alone: it cannot be handed over", () => {
    const shared = new Uint8Array(new SharedArrayBuffer(16)).fill(1);
    release(shared.buffer);
    assert.equal(shared.length, 16);
  });
});
