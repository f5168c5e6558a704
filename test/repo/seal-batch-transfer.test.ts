// A batch seal (native/seal-batch.c) whose buffers JavaScript transfers away while it works on
// libuv's pool: structuredClone with a transfer list detaches them, and the garbage collector
// frees their memory (Node 20 has no ArrayBuffer.prototype.transfer). The batch seals from its
// own copy of the input, and writes out and results back only where they still are. Each case
// runs in a child process (this file again, test/support/child.ts), so a crash fails the test.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { native } from "../../src/common/native.js";
import { decompress } from "../../src/repo/compression.js";
import { childTask, runChild } from "../support/child.js";

const self = fileURLToPath(import.meta.url);

type Taken = "input" | "out" | "results" | "shrunk-out";

/** A buffer of `length` bytes whose ArrayBuffer can shrink (resizable, ES2024). */
function resizable(length: number): { bytes: Uint8Array; shrink: () => void } {
  const Resizable = ArrayBuffer as unknown as new (
    n: number,
    o: { maxByteLength: number },
  ) => ArrayBuffer & {
    resize(n: number): void;
  };
  const buffer = new Resizable(length, { maxByteLength: length });
  return { bytes: new Uint8Array(buffer), shrink: () => buffer.resize(16) };
}

/** In the child: seals a batch, and takes `which` buffer away before it is done. */
async function transferDuringBatch(which: Taken): Promise<unknown> {
  const count = 200;
  const size = 2000;
  const key = randomBytes(64);
  const input = Buffer.allocUnsafeSlow(count * size);
  for (let i = 0; i < count; i++) input.write(JSON.stringify({ i, pad: "x".repeat(size) }), i * size);
  const plain = Buffer.from(input);
  const lengths = new Uint32Array(count).fill(size);
  const shrinkable = resizable(count * (size + 32));
  const out = which === "shrunk-out" ? shrinkable.bytes : Buffer.allocUnsafeSlow(count * (size + 32));
  const results = new Int32Array(2 * count);
  const pending = native.sealBatch(key, input, lengths, 1, 64, 0.97, out, results);
  if (which === "shrunk-out") shrinkable.shrink();
  else {
    const moved = { input: [input.buffer, lengths.buffer], out: [out.buffer], results: [results.buffer] }[
      which
    ];
    structuredClone(moved, { transfer: moved as ArrayBuffer[] });
  }
  (globalThis as { gc?: () => void }).gc?.();
  // new allocations that would take the freed memory's place
  const litter = Array.from({ length: 50 }, () => Buffer.alloc(count * size, 0xee));
  try {
    await pending;
  } catch (err) {
    const e = err as Error & { code?: string };
    return { rejected: { code: e.code, message: e.message }, litter: litter.length };
  }
  // each blob opens and decompresses to what was pushed
  const same: boolean[] = [];
  for (let i = 0, at = 0; i < count; i++) {
    const stored = results[2 * i] as number;
    const uncompressed = results[2 * i + 1] as number;
    const opened = Buffer.alloc(Math.max(stored - 32, 0));
    const authentic = native.open(key, out.subarray(at, at + stored), opened, 0);
    const data = uncompressed >= 0 ? decompress(opened, `blob ${i}`, uncompressed) : opened;
    same.push(authentic && data.equals(plain.subarray(i * size, (i + 1) * size)));
    at += stored;
  }
  return { resolved: true, blobsAsPushed: same.filter(Boolean).length, litter: litter.length };
}

if (childTask) {
  const result = await transferDuringBatch(childTask as Taken);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  describe("a batch seal whose buffers are transferred while it works", () => {
    it("seals the input as it was when called, though the input is transferred and freed meanwhile", () => {
      const run = runChild(self, "input", ["--expose-gc"]);
      assert.equal(run.signal, null, run.stderr);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.lines, [{ resolved: true, blobsAsPushed: 200, litter: 50 }]);
    });

    for (const taken of ["out", "results", "shrunk-out"] as const) {
      it(`rejects with a clear error, writing nothing, when ${taken} is taken away`, () => {
        const run = runChild(self, taken, ["--expose-gc"]);
        assert.equal(run.signal, null, run.stderr);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.lines, [
          {
            rejected: {
              code: "ERR_INVALID_STATE",
              message:
                "sealBatch: sealing 200 blobs: out or results was detached (transferred) or shrunk while the batch was sealing; nothing was written",
            },
            litter: 50,
          },
        ]);
      });
    }
  });
}
