// The native addon (native/*.c) refuses bad arguments with a TypeError or RangeError that names
// the function and the argument, and never crashes: each function runs with bad arguments in a
// child process (this file again, test/support/child.ts), so a crash fails one test with the
// case that caused it instead of killing the runner.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { native } from "../../src/common/native.js";
import { childTask, runChild } from "../support/child.js";

const self = fileURLToPath(import.meta.url);

type Fn = keyof typeof native;

/** What an argument must be; each kind has its own bad values. */
type Kind = "bytes" | "int32s" | "uint32s" | "index" | "integer" | "fraction" | "path" | "name" | "time";

interface Argument {
  name: string;
  kind: Kind;
  /** A fresh valid value (some cases detach their buffer). */
  valid: () => unknown;
  /** Bad values only this argument has: a wrong size, one past its buffer. */
  also?: Array<[string, () => unknown]>;
}

/** The view, its ArrayBuffer transferred away (detached). */
function detach<T extends ArrayBufferView>(view: T): T {
  const buffer = view.buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

const notNumbers: Array<[string, () => unknown]> = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["a string", () => "1"],
  ["a bigint", () => 1n],
  ["a boolean", () => true],
  ["an object with valueOf", () => ({ valueOf: () => 1 })],
];
const notIntegers: Array<[string, () => unknown]> = [
  ["NaN", () => NaN],
  ["Infinity", () => Infinity],
  ["-Infinity", () => -Infinity],
  ["a fraction", () => 1.5],
  ["2^53", () => 2 ** 53],
  ["Number.MAX_VALUE", () => Number.MAX_VALUE],
];
const notBytes: Array<[string, () => unknown]> = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["a number", () => 42],
  ["a string", () => "bytes"],
  ["an array", () => [1, 2, 3]],
  ["an array-like object", () => ({ length: 1e9 })],
  ["an ArrayBuffer", () => new ArrayBuffer(64)],
  ["a DataView", () => new DataView(new ArrayBuffer(64))],
  ["a Uint8ClampedArray", () => new Uint8ClampedArray(64)],
  ["an Int32Array", () => new Int32Array(16)],
  ["a Float64Array", () => new Float64Array(8)],
  ["a detached Uint8Array", () => detach(new Uint8Array(16))],
];

const BAD: Record<Kind, Array<[string, () => unknown]>> = {
  bytes: notBytes,
  int32s: [
    ["undefined", () => undefined],
    ["a Uint8Array", () => Buffer.alloc(1024)],
    ["a Uint32Array", () => new Uint32Array(256)],
    ["a Float32Array", () => new Float32Array(256)],
    ["a detached Int32Array", () => detach(new Int32Array(4))],
  ],
  uint32s: [
    ["undefined", () => undefined],
    ["a Uint8Array", () => Buffer.alloc(16)],
    ["an Int32Array", () => new Int32Array(4)],
    ["a detached Uint32Array", () => detach(new Uint32Array(4))],
  ],
  index: [...notNumbers, ...notIntegers, ["-1", () => -1], ["-0.5", () => -0.5]],
  integer: [...notNumbers, ...notIntegers],
  fraction: [
    ...notNumbers,
    ["NaN", () => NaN],
    ["-0.1", () => -0.1],
    ["1.5", () => 1.5],
    ["Infinity", () => Infinity],
  ],
  time: [...notNumbers, ...notIntegers],
  path: [
    ["undefined", () => undefined],
    ["a number", () => 42],
    ["an object", () => ({})],
    ["a string with a NUL", () => "a\0b"],
    ["bytes with a NUL", () => Buffer.from("a\0b")],
  ],
  name: [
    ["undefined", () => undefined],
    ["a number", () => 42],
    ["a string with a NUL", () => "user.a\0b"],
  ],
};

/** Every exported function and its arguments, each with valid values that work together. */
function signatures(scratch: string): Record<Fn, Argument[]> {
  const file = join(scratch, "file");
  writeFileSync(file, "x");
  const bytes = (n: number) => () => randomBytes(n);
  const key = { name: "key", kind: "bytes", valid: bytes(64) } as const;
  const wrongSizes = (size: number): Array<[string, () => unknown]> => [
    [`${size - 1} bytes`, () => Buffer.alloc(size - 1)],
    [`${size + 1} bytes`, () => Buffer.alloc(size + 1)],
    ["no bytes", () => Buffer.alloc(0)],
  ];
  const keyed = { ...key, also: wrongSizes(64) };
  const offset = (length: number): Argument => ({
    name: "offset",
    kind: "index",
    valid: () => 0,
    also: [
      ["one past the end of out", () => length + 1],
      ["far beyond out", () => 2 ** 40],
    ],
  });
  const mask = (name: string): Argument => ({
    name,
    kind: "integer",
    valid: () => 0xffff0000,
    also: [
      ["2^32", () => 2 ** 32],
      ["-2^31 - 1", () => -(2 ** 31) - 1],
    ],
  });
  const chunkIndex = (name: string, valid: number): Argument => ({
    name,
    kind: "index",
    valid: () => valid,
    also: [["one past the end of data", () => 4097]],
  });
  const second = (name: string): Argument => ({ name, kind: "time", valid: () => 1_700_000_000 });
  const nanos = (name: string): Argument => ({
    name,
    kind: "time",
    valid: () => 5,
    also: [["a second's worth", () => 1e9]],
  });
  return {
    poly1305: [
      { name: "message", kind: "bytes", valid: bytes(100) },
      { name: "key", kind: "bytes", valid: bytes(32), also: wrongSizes(32) },
    ],
    seal: [
      keyed,
      { name: "plain", kind: "bytes", valid: bytes(100) },
      { name: "out", kind: "bytes", valid: bytes(200) },
      offset(200),
    ],
    open: [
      keyed,
      {
        name: "sealed",
        kind: "bytes",
        valid: bytes(100),
        also: [["shorter than IV and MAC", () => Buffer.alloc(31)]],
      },
      { name: "out", kind: "bytes", valid: bytes(100) },
      offset(100),
    ],
    sealBatch: [
      keyed,
      {
        name: "input",
        kind: "bytes",
        valid: bytes(300),
        also: [["shorter than the lengths", () => Buffer.alloc(299)]],
      },
      {
        name: "lengths",
        kind: "uint32s",
        valid: () => Uint32Array.of(100, 200),
        also: [
          ["too long to seal", () => Uint32Array.of(2 ** 32 - 1, 0)],
          ["adding up to more than input", () => Uint32Array.of(200, 200)],
        ],
      },
      {
        name: "level",
        kind: "integer",
        valid: () => 1,
        also: [
          ["23", () => 23],
          ["-2^20", () => -(2 ** 20)],
        ],
      },
      { name: "minLength", kind: "index", valid: () => 64 },
      { name: "maxKept", kind: "fraction", valid: () => 0.97 },
      {
        name: "out",
        kind: "bytes",
        valid: bytes(364),
        also: [["without room for two MACs", () => Buffer.alloc(363)]],
      },
      {
        name: "results",
        kind: "int32s",
        valid: () => new Int32Array(4),
        also: [
          ["one entry short", () => new Int32Array(3)],
          ["one entry long", () => new Int32Array(5)],
        ],
      },
    ],
    sha256Hex: [
      { name: "piece 1", kind: "bytes", valid: bytes(10) },
      { name: "piece 2", kind: "bytes", valid: bytes(10) },
    ],
    llistxattr: [{ name: "path", kind: "path", valid: () => file }],
    lgetxattr: [
      { name: "path", kind: "path", valid: () => file },
      { name: "name", kind: "name", valid: () => "user.absent" },
    ],
    lsetxattr: [
      { name: "path", kind: "path", valid: () => file },
      { name: "name", kind: "name", valid: () => "user.arca-test" },
      { name: "value", kind: "bytes", valid: bytes(4) },
    ],
    lutimens: [
      { name: "path", kind: "path", valid: () => file },
      second("atimeSec"),
      nanos("atimeNsec"),
      second("mtimeSec"),
      nanos("mtimeNsec"),
    ],
    tuneAllocator: [],
    scanList: [{ name: "body", kind: "bytes", valid: () => Buffer.from('{"items":[]}') }],
    fastcdcScan: [
      {
        name: "gear",
        kind: "int32s",
        valid: () => new Int32Array(256),
        also: [["255 entries", () => new Int32Array(255)]],
      },
      { name: "data", kind: "bytes", valid: bytes(4096) },
      chunkIndex("from", 0),
      chunkIndex("normal", 2048),
      chunkIndex("limit", 4096),
      mask("maskS"),
      mask("maskL"),
    ],
  };
}

/** sha256Hex takes any number of pieces up to four, none included. */
const VARIADIC: Fn[] = ["sha256Hex"];

/** One call: its description, the arguments it spoils (none for a valid call), and the arguments. */
interface Call {
  what: string;
  spoils: string[];
  args: () => unknown[];
}

function calls(fn: Fn, args: Argument[]): Call[] {
  const valid = () => args.map((a) => a.valid());
  const list: Call[] = [{ what: "valid arguments", spoils: [], args: valid }];
  if (args.length > 0 && !VARIADIC.includes(fn)) {
    list.push({ what: "no arguments", spoils: args.map((a) => a.name), args: () => [] });
  }
  args.forEach((arg, i) => {
    for (const [what, bad] of [...BAD[arg.kind], ...(arg.also ?? [])]) {
      list.push({
        what: `${arg.name} is ${what}`,
        spoils: [arg.name],
        args: () => valid().map((v, j) => (j === i ? bad() : v)),
      });
    }
  });
  return list;
}

interface Outcome {
  what: string;
  spoils: string[];
  threw?: { name: string; code?: string; message: string };
  returned?: string;
}

/** In the child: makes every call of `fn`, one JSON line before and after each. */
async function child(fn: Fn): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "arca-native-args-"));
  try {
    for (const call of calls(fn, signatures(scratch)[fn])) {
      process.stdout.write(`${JSON.stringify({ starting: call.what })}\n`);
      const outcome: Outcome = { what: call.what, spoils: call.spoils };
      try {
        const result = (native[fn] as (...args: unknown[]) => unknown)(...call.args());
        // sealBatch's work happens on the pool: wait for it, so a crash there is this call's
        if (result instanceof Promise) await result;
        outcome.returned = typeof result;
      } catch (err) {
        const e = err as Error & { code?: string };
        outcome.threw = { name: e.constructor.name, code: e.code, message: e.message };
      }
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (childTask) {
  await child(childTask as Fn);
} else {
  describe("the native addon refuses bad arguments, in a child process that must not crash", () => {
    const scratch = mkdtempSync(join(tmpdir(), "arca-native-args-"));
    const all = signatures(scratch);
    rmSync(scratch, { recursive: true, force: true });

    it("has bad-argument cases for every exported function", () => {
      assert.deepEqual(Object.keys(all).sort(), Object.keys(native).sort());
    });

    for (const fn of Object.keys(all) as Fn[]) {
      it(`${fn}: each bad argument is a TypeError or RangeError naming it`, () => {
        const run = runChild<Outcome & { starting?: string }>(self, fn);
        const last = run.lines.filter((l) => l.starting).at(-1)?.starting;
        assert.equal(run.signal, null, `${fn} crashed (${run.signal}) on: ${last}\n${run.stderr}`);
        assert.equal(run.status, 0, `the child failed on: ${last}\n${run.stderr}`);
        const outcomes = run.lines.filter((l) => !l.starting);
        const expected = calls(fn, all[fn]).map((c) => c.what);
        assert.deepEqual(
          outcomes.map((o) => o.what),
          expected,
          "every call was made and answered",
        );
        for (const o of outcomes) {
          if (o.spoils.length === 0) {
            // the file system may still refuse (an absent xattr), but not the arguments
            assert.ok(
              !["TypeError", "RangeError"].includes(o.threw?.name ?? ""),
              `${fn} with ${o.what} threw: ${o.threw?.message}`,
            );
            continue;
          }
          assert.ok(o.threw, `${fn} accepted ${o.what} (returned ${o.returned})`);
          assert.ok(
            ["TypeError", "RangeError"].includes(o.threw.name),
            `${fn} with ${o.what}: ${o.threw.name}: ${o.threw.message}`,
          );
          const named = o.spoils.some((name) =>
            new RegExp(`^${fn}: .*\\b${name}\\b`).test(o.threw?.message ?? ""),
          );
          assert.ok(named, `${fn} with ${o.what} names the function and the argument: ${o.threw.message}`);
        }
      });
    }
  });
}
