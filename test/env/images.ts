// The node's images, built here without a daemon or a registry: a busybox image for test
// workloads (and containerd's sandbox), and Arca's own image, in the Dockerfile's layout. Each
// is a docker-archive tar cached by a hash of its inputs, for `ctr images import`.
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runTool, writeDockerArchive, type LayerSpec } from "./docker-archive.js";
import { cacheRoot, withLock } from "./gobuild.js";

export { importImage } from "./docker-archive.js";

export interface Image {
  /** The tag the archive carries, e.g. arca.local/arca:0.1.0-1a2b3c4d5e6f. */
  ref: string;
  tarPath: string;
}

export const WORKLOAD_IMAGE_REF = "arca.local/busybox:1.35";
/** The Deployment's user (src/install/manifests.ts IMAGE_UID, the Dockerfile's USER). */
const ARCA_UID = 10001;
const ENTRYPOINT = ["node", "--max-semi-space-size=8", "/app/dist/src/cli/main.js"];
const BUSYBOX = "/bin/busybox";
/** The newest archives of each image kept in the cache; a changed program makes a new one. */
const KEEP = 3;

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** This file and the archive writer are the recipe: changing them makes new images. */
const recipeFiles = [
  fileURLToPath(import.meta.url),
  fileURLToPath(new URL("./docker-archive.ts", import.meta.url)),
];

function log(message: string): void {
  process.stderr.write(`[test-env] ${message}\n`);
}

function imagesDir(): string {
  const dir = join(cacheRoot(), "images");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Every file under `dir`, relative, sorted (so that a hash over them is stable). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Hashes file contents (small inputs) and, for the host's large binaries, path, size and mtime. */
class InputHash {
  private readonly hash = createHash("sha256");
  content(path: string, name = path): this {
    this.hash.update(`${name}\0`).update(readFileSync(path)).update("\0");
    return this;
  }
  tree(dir: string): this {
    for (const f of filesUnder(dir)) this.content(join(dir, f), relative(repoRoot, join(dir, f)));
    return this;
  }
  stat(path: string): this {
    const s = statSync(path);
    this.hash.update(`${path}\0${s.size}\0${s.mtimeMs}\0`);
    return this;
  }
  digest(): string {
    return this.hash.digest("hex").slice(0, 12);
  }
}

/**
 * Returns the cached archive `<name>-<hash>.tar`, or builds it (under a lock, so that two test
 * processes never build the same image at once) and keeps only the newest few of that name.
 */
async function cachedArchive(
  name: string,
  hash: string,
  build: (out: string, work: string) => Promise<void>,
): Promise<string> {
  const dir = imagesDir();
  const out = join(dir, `${name}-${hash}.tar`);
  if (existsSync(out)) return out;
  return withLock(join(dir, name), `the ${name} image`, async () => {
    if (existsSync(out)) return out;
    const work = mkdtempSync(join(dir, `${name}-${hash}.work-`));
    const started = Date.now();
    try {
      await build(out, work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    log(
      `built the ${name} image in ${((Date.now() - started) / 1000).toFixed(1)}s: ${out} ` +
        `(${(statSync(out).size / 2 ** 20).toFixed(0)} MiB)`,
    );
    const older = readdirSync(dir)
      .filter((f) => f.startsWith(`${name}-`) && f.endsWith(".tar") && f !== `${name}-${hash}.tar`)
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of older.slice(KEEP - 1)) rmSync(old.path, { force: true });
    return out;
  });
}

/** A root file system's skeleton: the directories a runtime mounts over, /tmp for everyone. */
function skeleton(root: string, passwd: string, group: string): void {
  for (const d of ["bin", "etc", "dev", "proc", "sys", "root", "home", "var", "tmp"])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  writeFileSync(join(root, "etc/passwd"), passwd);
  writeFileSync(join(root, "etc/group"), group);
}

/** Debian's busybox-static at /bin/busybox, with a symlink per applet (sh, ls, mkfifo, ...). */
async function installBusybox(root: string): Promise<void> {
  if (!existsSync(BUSYBOX))
    throw new Error(
      `${BUSYBOX} is missing: install Debian's busybox-static (apt-get install busybox-static)`,
    );
  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  const applets = (await runTool("listing busybox's applets", BUSYBOX, ["--list"])).split("\n");
  for (const a of applets)
    if (a && a !== "busybox" && !existsSync(join(root, "bin", a)))
      symlinkSync("busybox", join(root, "bin", a));
}

/**
 * The busybox image of test/env's node: workloads set their own command, and containerd runs it
 * as the sandbox ("pause") container, hence CMD sleeps forever.
 */
export async function workloadImage(): Promise<Image> {
  const hash = new InputHash();
  for (const f of recipeFiles) hash.content(f);
  const tarPath = await cachedArchive("busybox", hash.stat(BUSYBOX).digest(), async (out, work) => {
    const root = join(work, "rootfs");
    skeleton(
      root,
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
      "root:x:0:\nnogroup:x:65534:\n",
    );
    await installBusybox(root);
    await writeDockerArchive(out, work, WORKLOAD_IMAGE_REF, [{ root, createdBy: "busybox-static" }], {
      Env: ["PATH=/bin"],
      Cmd: ["/bin/sleep", "2147483647"],
      WorkingDir: "/",
    });
  });
  return { ref: WORKLOAD_IMAGE_REF, tarPath };
}

/** The shared libraries `ldd` lists for the given ELF files (the loader included), host paths. */
async function sharedLibraries(files: string[]): Promise<string[]> {
  const libs = new Set<string>();
  for (const f of files) {
    const out = await runTool(`listing the shared libraries of ${f}`, "ldd", [f]);
    for (const m of out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libs.add(m[1] as string);
  }
  return [...libs].sort();
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes host directory `dir` resolve in `root` as on the host: a symlinked parent stays one. */
function hostDirectory(root: string, dir: string): void {
  let at = "/";
  for (const part of dir.split("/").filter(Boolean)) {
    at = join(at, part);
    if (exists(join(root, at))) continue;
    if (lstatSync(at).isSymbolicLink()) {
      const target = resolve(dirname(at), readlinkSync(at));
      hostDirectory(root, target);
      symlinkSync(relative(dirname(at), target), join(root, at));
    } else mkdirSync(join(root, at));
  }
}

/**
 * Copies a host file into the root file system at the same path, so that the loader finds each
 * library where it looks on the host: Debian's merged /usr (/lib -> usr/lib) and versioned
 * libraries (libstdc++.so.6 -> libstdc++.so.6.0.30) are recreated as symlinks.
 */
function copyHostFile(root: string, path: string): void {
  hostDirectory(root, dirname(path));
  if (exists(join(root, path))) return;
  if (lstatSync(path).isSymbolicLink()) {
    const target = resolve(dirname(path), readlinkSync(path));
    copyHostFile(root, target);
    symlinkSync(relative(dirname(path), target), join(root, path));
  } else {
    copyFileSync(path, join(root, path));
    chmodSync(join(root, path), statSync(path).mode & 0o7777);
  }
}

/** `npm run build`'s output, rebuilt when the sources changed since it was made. */
async function ensureDist(): Promise<string> {
  const dist = join(repoRoot, "dist/src");
  const stamp = join(repoRoot, "dist/.image-sources");
  const sources = new InputHash().tree(join(repoRoot, "src"));
  for (const f of ["tsconfig.json", "tsconfig.build.json", "package.json"])
    sources.content(join(repoRoot, f), f);
  const wanted = sources.digest();
  const built = () => existsSync(dist) && existsSync(stamp) && readFileSync(stamp, "utf8") === wanted;
  if (built()) return dist;
  return withLock(join(imagesDir(), "dist"), "Arca's compiled program", async () => {
    if (built()) return dist;
    log(`compiling Arca (npm run build) into ${dist} for its image`);
    // Whatever a deleted source left behind must not reach the image.
    rmSync(dist, { recursive: true, force: true });
    await runTool("compiling Arca for its image", "npm", ["run", "build", "--silent"], repoRoot);
    writeFileSync(stamp, wanted);
    return dist;
  });
}

/**
 * Node.js (the machine's, stripped of debug info: 99 -> 86 MiB), /usr/bin/env for main.js's #!
 * line, and the shared libraries they and the addons load.
 */
async function nodeRuntime(root: string, libraries: string[]): Promise<void> {
  const node = realpathSync(process.execPath);
  mkdirSync(join(root, "usr/local/bin"), { recursive: true });
  await runTool("copying Node.js into the image", "strip", [
    "--strip-unneeded",
    "-o",
    join(root, "usr/local/bin/node"),
    node,
  ]);
  copyHostFile(root, "/usr/bin/env");
  for (const lib of libraries) copyHostFile(root, lib);
  // glibc resolves host names through this file: Kubernetes mounts /etc/hosts and /etc/resolv.conf.
  writeFileSync(join(root, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
}

/** Production node_modules: a copy of the checkout's, pruned of dev dependencies without network. */
async function productionModules(root: string, work: string): Promise<void> {
  const stage = join(work, "modules");
  mkdirSync(stage);
  await runTool("copying node_modules for the image", "cp", [
    ...["-a", "--reflink=auto"],
    ...["node_modules", "package.json", "package-lock.json"].map((f) => join(repoRoot, f)),
    stage,
  ]);
  await runTool(
    "pruning dev dependencies for the image",
    "npm",
    ["prune", "--omit=dev", "--ignore-scripts", "--offline", "--no-audit", "--no-fund"],
    stage,
  );
  await runTool("removing empty directories left by npm prune", "find", [
    ...[join(stage, "node_modules"), "-mindepth", "1", "-type", "d", "-empty", "-delete"],
  ]);
  mkdirSync(join(root, "app"), { recursive: true });
  renameSync(join(stage, "node_modules"), join(root, "app/node_modules"));
}

/** The compiled program, its addon and package.json; `arca` and `kubectl-arca` on PATH. */
async function program(root: string, dist: string, addon: string): Promise<void> {
  mkdirSync(join(root, "app/dist"), { recursive: true });
  mkdirSync(join(root, "app/build/Release"), { recursive: true });
  mkdirSync(join(root, "usr/local/bin"), { recursive: true });
  await runTool("copying the compiled program into the image", "cp", [
    "-a",
    dist,
    join(root, "app/dist/src"),
  ]);
  copyFileSync(join(repoRoot, "package.json"), join(root, "app/package.json"));
  copyFileSync(addon, join(root, "app/build/Release/arca_native.node"));
  chmodSync(join(root, "app/dist/src/cli/main.js"), 0o755);
  for (const name of ["arca", "kubectl-arca"])
    symlinkSync("/app/dist/src/cli/main.js", join(root, "usr/local/bin", name));
}

/**
 * Arca's image in the Dockerfile's layout, in three layers that change at different rates:
 * the runtime (Node.js, busybox, users), production node_modules, and the program.
 */
export async function arcaImage(): Promise<Image> {
  const dist = await ensureDist();
  const addon = join(repoRoot, "build/Release/arca_native.node");
  if (!existsSync(addon)) throw new Error(`${addon} is missing: run npm install (it builds Arca's addon)`);
  const moduleAddons = filesUnder(join(repoRoot, "node_modules"))
    .filter((f) => f.endsWith(".node"))
    .map((f) => join(repoRoot, "node_modules", f));
  const node = realpathSync(process.execPath);
  const hash = new InputHash();
  for (const f of recipeFiles) hash.content(f);
  for (const f of ["package.json", "package-lock.json"]) hash.content(join(repoRoot, f), f);
  hash.tree(dist).content(addon, "arca_native.node");
  for (const f of moduleAddons) hash.content(f);
  const libraries = await sharedLibraries([node, "/usr/bin/env", addon, ...moduleAddons]);
  for (const f of [node, "/usr/bin/env", BUSYBOX, ...libraries]) hash.stat(f);
  const digest = hash.digest();
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string })
    .version;
  const ref = `arca.local/arca:${version}-${digest}`;
  const tarPath = await cachedArchive("arca", digest, async (out, work) => {
    const [base, deps, app] = ["base", "deps", "app"].map((l) => join(work, l)) as [string, string, string];
    skeleton(
      base,
      `root:x:0:0:root:/root:/bin/sh\narca:x:${ARCA_UID}:${ARCA_UID}:arca:/tmp:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n`,
      `root:x:0:\narca:x:${ARCA_UID}:\nnogroup:x:65534:\n`,
    );
    await installBusybox(base);
    await nodeRuntime(base, libraries);
    await productionModules(deps, work);
    await program(app, dist, addon);
    const layers: LayerSpec[] = [
      { root: base, createdBy: `Node.js ${process.version}, /usr/bin/env, busybox-static, users` },
      { root: deps, createdBy: "production node_modules (npm prune --omit=dev)", mode: "a+rX,go-w" },
      {
        root: app,
        createdBy: `arca ${version}: dist/src, build/Release/arca_native.node`,
        mode: "a+rX,go-w",
      },
    ];
    await writeDockerArchive(out, work, ref, layers, {
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production", "HOME=/tmp"],
      Entrypoint: ENTRYPOINT,
      User: `${ARCA_UID}:${ARCA_UID}`,
      WorkingDir: "/app",
      ExposedPorts: { "8085/tcp": {} },
      Labels: { "org.opencontainers.image.version": version },
    });
  });
  return { ref, tarPath };
}
