// The logger loads pino only for a line it writes, and what it writes is pino's, redacted.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../src/common/log.js";

const require = createRequire(import.meta.url);
const pinoLoaded = () =>
  Object.keys(require.cache).some((path) => /node_modules\/pino\/pino\.js$/.test(path));

function memory(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe("logger", () => {
  it("writes nothing and loads no pino for lines below its level", () => {
    const out = memory();
    const log = createLogger({ level: "warn", destination: out.stream });
    log.info({ item: "configmaps/a/b" }, "included");
    log.debug("detail");
    assert.equal(pinoLoaded(), false, "pino was loaded for a line nobody writes");
    assert.deepEqual(out.lines(), []);
  });

  it("writes lines at its level through pino, secrets redacted, children with their fields", () => {
    const out = memory();
    const log = createLogger({ level: "warn", destination: out.stream });
    log.warn({ secretAccessKey: "s3cr3t", bucket: "b" }, "slow upload");
    log.child({ backup: "nightly" }).error("failed");
    log.info("not written");
    assert.ok(pinoLoaded());
    const [first, second, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(first?.msg, "slow upload");
    assert.equal(first?.secretAccessKey, "[redacted]");
    assert.equal(first?.bucket, "b");
    assert.equal(first?.level, 40);
    assert.equal(second?.msg, "failed");
    assert.equal(second?.backup, "nightly");
  });

  it("refuses an unknown level when it is made, as pino does", () => {
    assert.throws(() => createLogger({ level: "loud" }), /loud/);
  });
});
