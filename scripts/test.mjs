// `npm test`: installs what is missing, starts one shared cluster and S3 server for the whole
// run (unless ARCA_TEST_ENV already points at one, as after `source .arca-env/env.sh`), runs
// every test file with node's test runner, and always stops the servers it started.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out.sort();
}

function run(command, args, env = process.env, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const stdio = quiet ? ["ignore", "ignore", "inherit"] : "inherit";
    const child = spawn(command, args, { cwd: root, env, stdio });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const setup = spawnSync("bash", [join(root, "scripts/setup.sh")], { stdio: "inherit" });
if (setup.status !== 0) process.exit(setup.status ?? 1);

const files = testFiles(join(root, "test")).filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}

/** What a test node changes on the host (sysctls, iptables chains, bridges, folders, cgroups). */
function hostState() {
  const out = spawnSync(process.execPath, ["--import", "tsx", "test/env/cli.ts", "host-state"], {
    cwd: root,
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(`reading the host's state: ${out.stderr}`);
  return out.stdout.trim();
}
const hostBefore = hostState();

let envDir;
// See src/storage/s3.ts: the SDK's warning about its future Node versions is noise here.
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
if (!env.ARCA_TEST_ENV) {
  envDir = mkdtempSync(join(tmpdir(), "arca-test-run-"));
  const up = await run(process.execPath, ["--import", "tsx", "test/env/cli.ts", "up", "--dir", envDir], env);
  if (up !== 0) {
    rmSync(envDir, { recursive: true, force: true });
    console.error("the test environment did not start; see the messages above");
    process.exit(1);
  }
  env.ARCA_TEST_ENV = join(envDir, "env.json");
}

const down = async () => {
  // Quiet, so that the test runner's summary stays the last thing printed.
  if (envDir)
    await run(
      process.execPath,
      ["--import", "tsx", "test/env/cli.ts", "down", "--dir", envDir],
      process.env,
      { quiet: true },
    );
  envDir = undefined;
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => void down().then(() => process.exit(130)));
}

const code = await run(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=900000", ...files],
  env,
);
await down();
const hostAfter = hostState();
if (hostAfter !== hostBefore) {
  console.error(
    `the test run left the host changed (sysctls, iptables chains, bridges, folders or cgroups):\n` +
      `before: ${hostBefore}\nafter:  ${hostAfter}`,
  );
  process.exit(code || 1);
}
process.exit(code);
