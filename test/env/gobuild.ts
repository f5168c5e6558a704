// Builds Go programs from their modules through the Go module proxy into a cache keyed by
// version, so that only the first run on a machine pays for the build.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Outside the work tree, so that fresh clones on the same machine (CI) reuse the binaries. */
export function cacheRoot(): string {
  const base =
    process.env.ARCA_TEST_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "arca", "test-env");
  mkdirSync(base, { recursive: true });
  return base;
}

export interface GoBuild {
  /** Cache key, e.g. "kubernetes-v1.37.2". */
  key: string;
  /** Source of the wrapper module: file name -> content (go.mod, main.go, ...). */
  files: Record<string, string>;
  /** Packages to build, one binary each, named after the package's last path element. */
  packages: Array<{ pkg: string; binary: string }>;
  ldflags?: string;
}

function log(message: string): void {
  process.stderr.write(`[test-env] ${message}\n`);
}

/** A step that takes long says every minute that it is still at work, so nobody thinks it hung. */
function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  step?: string,
): Promise<string> {
  const started = Date.now();
  const heartbeat = step
    ? setInterval(
        () => log(`${step}: still at work (${Math.round((Date.now() - started) / 1000)}s so far)`),
        60_000,
      )
    : undefined;
  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", (err) =>
      reject(new Error(`running ${command} ${args.join(" ")}: ${err.message} (is Go installed?)`)),
    );
    child.once("exit", (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`${command} ${args.join(" ")} failed in ${cwd} (exit ${code}):\n${output.slice(-4000)}`),
        );
    });
  }).finally(() => clearInterval(heartbeat));
}

/** Who holds a build lock: written into it, so that a waiter can tell a live build from a dead one. */
interface LockOwner {
  pid: number;
  host: string;
  started: number;
}

function readOwner(lock: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(lock, "owner.json"), "utf8")) as LockOwner;
  } catch {
    return undefined; // being written, or a lock from before owners were recorded
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Milliseconds a lock without a readable owner may sit before it counts as abandoned. */
const OWNERLESS_GRACE_MS = 30_000;

/**
 * A directory lock, so that two processes never build the same binaries at once. The lock's
 * parent is created first (a fresh machine has no cache), a lock whose owner on this host has
 * died is taken over at once, and a waiter says every half minute what it waits for.
 */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const since = Date.now();
  let told = 0;
  for (;;) {
    try {
      mkdirSync(lock);
      const owner: LockOwner = { pid: process.pid, host: hostname(), started: Date.now() };
      writeFileSync(join(lock, "owner.json"), JSON.stringify(owner));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`taking the build lock ${lock} for ${what}: ${(err as Error).message}`);
      }
    }
    const owner = readOwner(lock);
    const abandoned = owner
      ? owner.host === hostname() && !alive(owner.pid)
      : existsSync(lock) && Date.now() - statSync(lock).mtimeMs > OWNERLESS_GRACE_MS;
    if (abandoned) {
      log(
        `${what}: the build lock ${lock} was left by ${owner ? `process ${owner.pid}, which is gone` : "a process that never recorded itself"}; taking it over`,
      );
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - told >= 30_000) {
      told = Date.now();
      const holder = owner ? `process ${owner.pid} on ${owner.host}` : "another process";
      log(
        `${what}: waiting for ${holder} to finish building it (lock ${lock}, ${Math.round((Date.now() - since) / 1000)}s so far)`,
      );
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Returns the directory holding the built binaries, building them first if they are missing. */
export async function ensureGoBinaries(build: GoBuild): Promise<string> {
  const binDir = join(cacheRoot(), "bin", build.key);
  const complete = () => build.packages.every((p) => existsSync(join(binDir, p.binary)));
  if (complete()) return binDir;
  return withLock(binDir, build.key, async () => {
    if (complete()) return binDir;
    const srcDir = join(cacheRoot(), "src", build.key);
    mkdirSync(srcDir, { recursive: true });
    for (const [name, content] of Object.entries(build.files)) writeFileSync(join(srcDir, name), content);
    const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
    const started = Date.now();
    log(
      `building ${build.key} (${build.packages.map((p) => p.binary).join(", ")}); the first build takes minutes, later runs reuse ${binDir}`,
    );
    log(`${build.key}: resolving modules (go mod tidy)`);
    await run("go", ["mod", "tidy"], srcDir, env, `${build.key}: go mod tidy`);
    const tmpDir = `${binDir}.partial`;
    rmSync(tmpDir, { recursive: true, force: true });
    mkdirSync(tmpDir, { recursive: true });
    for (const { pkg, binary } of build.packages) {
      log(`${build.key}: compiling ${binary} (${Math.round((Date.now() - started) / 1000)}s so far)`);
      const args = ["build", "-trimpath", "-o", join(tmpDir, binary)];
      if (build.ldflags) args.push("-ldflags", build.ldflags);
      await run("go", [...args, pkg], srcDir, env, `${build.key}: compiling ${binary}`);
    }
    // Rename last, so that an interrupted build never looks complete.
    rmSync(binDir, { recursive: true, force: true });
    renameSync(tmpDir, binDir);
    log(
      `${build.key}: built in ${Math.round((Date.now() - started) / 1000)}s: ${readdirSync(binDir).join(", ")}`,
    );
    return binDir;
  });
}

/** Reads a module's go.mod from the module proxy through the go command (no other network). */
export async function downloadGoMod(module: string, version: string): Promise<string> {
  const dir = join(cacheRoot(), "src", "_gomod");
  mkdirSync(dir, { recursive: true });
  const out = await run("go", ["mod", "download", "-json", `${module}@${version}`], dir, {
    ...process.env,
    GOFLAGS: "-mod=mod",
  });
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (info.Error || !info.GoMod)
    throw new Error(`downloading ${module}@${version}: ${info.Error ?? "no go.mod"}`);
  return readFileSync(info.GoMod, "utf8");
}
