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
import { homedir } from "node:os";
import { join } from "node:path";
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

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
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
  });
}

/** A directory lock, so that two test processes never build the same binaries at once. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than an hour was left by a killed build.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 3_600_000)
        rmSync(lock, { recursive: true, force: true });
      await sleep(1000);
    }
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
  return withLock(binDir, async () => {
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
    await run("go", ["mod", "tidy"], srcDir, env);
    const tmpDir = `${binDir}.partial`;
    rmSync(tmpDir, { recursive: true, force: true });
    mkdirSync(tmpDir, { recursive: true });
    for (const { pkg, binary } of build.packages) {
      log(`${build.key}: compiling ${binary} (${Math.round((Date.now() - started) / 1000)}s so far)`);
      const args = ["build", "-trimpath", "-o", join(tmpDir, binary)];
      if (build.ldflags) args.push("-ldflags", build.ldflags);
      await run("go", [...args, pkg], srcDir, env);
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
