// A machine where Arca's native addon cannot be loaded: commands that touch no repository data
// (version, policy, install, uninstall, and backup, restore, schedule and location without
// --local) work, and never even open the addon; a command that needs it fails with one line that
// says what failed to load, from where, and what to do. ARCA_NATIVE_ADDON points the loader at a
// file that is not a shared library, and a preload records every native module Node.js opens.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { remoteNamespace, type RemoteNamespace } from "./remote-setup.js";
import { runArca, type CliResult } from "./run.js";

const scratch = mkdtempSync(join(tmpdir(), "arca-no-addon-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const broken = join(scratch, "arca_native.node");
writeFileSync(broken, "not a shared library\n".repeat(100));
const spy = join(scratch, "dlopen-spy.mjs");
writeFileSync(
  spy,
  `import { appendFileSync } from "node:fs";
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  appendFileSync(process.env.ARCA_TEST_DLOPEN_LOG, filename + "\\n");
  return dlopen.call(this, module, filename, ...rest);
};
`,
);

/** The environment of a machine whose addon does not load, with every dlopen logged to `log`. */
function withoutAddon(base: NodeJS.ProcessEnv, log: string): NodeJS.ProcessEnv {
  return {
    ...base,
    ARCA_NATIVE_ADDON: broken,
    ARCA_TEST_DLOPEN_LOG: log,
    NODE_OPTIONS: `${base.NODE_OPTIONS ?? ""} --import=${spy}`.trim(),
  };
}

let runs = 0;
/** Runs arca without its addon; the result and the native modules the process opened. */
async function runWithoutAddon(args: string[], base: NodeJS.ProcessEnv = process.env) {
  const log = join(scratch, `dlopen-${++runs}.log`);
  const result = await runArca(args, withoutAddon(base, log));
  const opened = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  return { ...result, opened };
}

function succeeded(r: CliResult & { opened: string[] }, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  assert.deepEqual(r.opened, [], `${what} opened no native module`);
}

describe("commands that touch no repository data, with an addon that cannot load", () => {
  // No cluster: install's dry run only prints what it would apply.
  const { KUBECONFIG: _k, ...rest } = process.env;
  const noCluster = { ...rest, HOME: scratch };

  it("version, policy and install --dry-run work and never open the addon", async () => {
    const version = await runWithoutAddon(["version"], noCluster);
    succeeded(version, "version");
    assert.match(version.stdout, /^Repository format: +restic v2$/m);

    const policy = await runWithoutAddon(["policy", "--provider", "aws", "--bucket", "mybackups"], noCluster);
    succeeded(policy, "policy");
    assert.equal((JSON.parse(policy.stdout) as { Version: string }).Version, "2012-10-17");

    const dryRun = await runWithoutAddon(
      ["install", "--dry-run", "--provider", "file", "--bucket", "/var/lib/arca/backups"],
      noCluster,
    );
    succeeded(dryRun, "install --dry-run");
    assert.match(dryRun.stdout, /kind: Deployment/);
  });
});

describe("a command that needs the addon, when it cannot load", () => {
  it("fails with one line naming the file, the reason and the remedy, and creates no repository", async () => {
    const password = join(scratch, "password");
    writeFileSync(password, "pw\n");
    const repo = join(scratch, "repo");
    const r = await runWithoutAddon(["repo", "init", "-r", `file://${repo}`, "--password-file", password]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: Arca's native addon could not be loaded from ${broken} (set by ARCA_NATIVE_ADDON): ` +
        "invalid ELF header; point ARCA_NATIVE_ADDON at a built arca_native.node, or unset it\n",
    );
    assert.deepEqual(r.opened, [broken], "it tried the addon, once");
    assert.equal(existsSync(join(repo, "config")), false);
  });

  it("says the addon is missing when there is no file, and leaves the repository as it was", async () => {
    const repo = `file://${join(scratch, "existing")}`;
    const env = { ...process.env, ARCA_PASSWORD: "pw" };
    assert.equal((await runArca(["repo", "init", "-r", repo], env)).code, 0);
    const data = join(scratch, "data");
    mkdirSync(data);
    writeFileSync(join(data, "a"), "a");
    const missing = join(scratch, "nowhere", "arca_native.node");

    const r = await runArca(["fs", "backup", data, "-r", repo], { ...env, ARCA_NATIVE_ADDON: missing });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: Arca's native addon is missing: no ${missing} (set by ARCA_NATIVE_ADDON); ` +
        "point ARCA_NATIVE_ADDON at a built arca_native.node, or unset it\n",
    );
    const snapshots = await runArca(["repo", "snapshots", "-r", repo], env);
    assert.equal(snapshots.code, 0, snapshots.stderr);
  });
});

describe("the remote commands, against the test cluster, with an addon that cannot load", () => {
  let remote: RemoteNamespace;
  const arca = (...args: string[]) => runWithoutAddon(["-n", remote.ns, ...args], remote.cliEnv);

  before(async () => {
    remote = await remoteNamespace("cli-no-addon");
  });
  after(async () => {
    if (remote) await runArca(["-n", remote.ns, "uninstall"], remote.cliEnv);
    await remote?.stop();
  });

  it("install, location, backup, restore, schedule and uninstall work and never open the addon", async () => {
    const url = "file:///var/lib/arca/backups";
    succeeded(await arca("install", "--provider", "file", "--bucket", "/var/lib/arca/backups"), "install");
    succeeded(await arca("location", "create", "second", "--url", url), "location create");
    const locations = await arca("location", "get");
    succeeded(locations, "location get");
    assert.match(locations.stdout, /second/);
    const check = await arca("location", "check", "second");
    succeeded(check, "location check");
    assert.match(check.stdout, /has not checked the location yet/);

    succeeded(await arca("backup", "create", "nightly", "--include-namespaces", "shop"), "backup create");
    assert.deepEqual((await remote.objects.get("Backup", "nightly"))?.spec.includedNamespaces, ["shop"]);
    const backups = await arca("backup", "get");
    succeeded(backups, "backup get");
    assert.match(backups.stdout, /nightly/);
    // the controller's part: the backup completes
    await remote.objects.setStatus("Backup", "nightly", {
      phase: "Completed",
      progress: { itemsBackedUp: 3 },
    });
    succeeded(await arca("backup", "describe", "nightly"), "backup describe");

    succeeded(await arca("restore", "create", "back", "--from-backup", "nightly"), "restore create");
    assert.equal((await remote.objects.get("Restore", "back"))?.spec.backupName, "nightly");
    succeeded(await arca("restore", "get"), "restore get");

    succeeded(await arca("schedule", "create", "daily", "--schedule", "0 3 * * *"), "schedule create");
    const schedules = await arca("schedule", "get");
    succeeded(schedules, "schedule get");
    assert.match(schedules.stdout, /daily/);

    succeeded(await arca("uninstall"), "uninstall");
  });
});
