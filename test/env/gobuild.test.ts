// The build cache works on a machine that has never had one: a tiny Go module is built into an
// empty ARCA_TEST_CACHE by two processes at once (one builds, the other waits and says so), and a
// lock left by a process that died is taken over instead of waited out.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const gobuild = new URL("./gobuild.ts", import.meta.url).pathname;

/** A script that builds the module `hello-<key>` and prints the directory of its binary. */
function builderScript(dir: string): string {
  const script = join(dir, "build.mts");
  writeFileSync(
    script,
    `import { ensureGoBinaries } from ${JSON.stringify(gobuild)};
const key = process.argv[2];
const dir = await ensureGoBinaries({
  key,
  files: {
    "go.mod": "module arca.local/testenv/hello\\n\\ngo 1.21\\n",
    "main.go": 'package main\\n\\nimport "fmt"\\n\\nfunc main() { fmt.Println("hello from " + "' + key + '") }\\n',
  },
  packages: [{ pkg: ".", binary: "hello" }],
});
process.stdout.write(dir + "\\n");
`,
  );
  return script;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function build(script: string, cache: string, key: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, key], {
      env: { ...process.env, ARCA_TEST_CACHE: cache },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("Go build cache", () => {
  let dir: string;
  let script: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "arca-gobuild-"));
    script = builderScript(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("builds into a cache folder that does not exist yet, once, for two processes at once", async () => {
    const cache = join(dir, "fresh", "cache"); // not even its parent exists
    const [a, b] = await Promise.all([build(script, cache, "hello-1"), build(script, cache, "hello-1")]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout, "both processes get the same binaries");
    const binary = join(a.stdout.trim(), "hello");
    assert.equal(execFileSync(binary, { encoding: "utf8" }), "hello from hello-1\n");

    const logs = a.stderr + b.stderr;
    assert.equal(logs.match(/building hello-1/g)?.length, 1, `exactly one process builds:\n${logs}`);
    assert.match(
      logs,
      /hello-1: waiting for process \d+ on \S+ to finish building it \(lock \S+hello-1\.lock/,
    );
  });

  it("takes over a lock whose owner on this host is gone", async () => {
    const cache = join(dir, "stale");
    const lock = join(cache, "bin", "hello-2.lock");
    mkdirSync(lock, { recursive: true });
    const dead = spawnSync("true").pid; // a PID that has exited
    writeFileSync(join(lock, "owner.json"), JSON.stringify({ pid: dead, host: hostname(), started: 0 }));

    const started = Date.now();
    const out = await build(script, cache, "hello-2");
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, new RegExp(`left by process ${dead}, which is gone; taking it over`));
    assert.ok(Date.now() - started < 120_000, "the stale lock is not waited out");
    assert.equal(
      execFileSync(join(out.stdout.trim(), "hello"), { encoding: "utf8" }),
      "hello from hello-2\n",
    );
  });

  it("refuses with the lock's path when the cache cannot be written, instead of waiting", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "");
    const out = await build(script, join(file, "cache"), "hello-3");
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /not-a-dir/);
  });
});
