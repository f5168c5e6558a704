// The node's images, built without a daemon: each tar is a docker-archive that a runtime reads,
// Arca's image runs the program as the Deployment's user (under chroot, the same root file system
// a container gets), its addons work (restic reads what it wrote), and a private containerd
// imports both images so that its CRI, which the kubelet asks, knows their tags.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resticSnapshots } from "../support/restic.js";
import { sha256File, type ArchiveManifestEntry, type ImageConfig } from "./docker-archive.js";
import { arcaImage, importImage, workloadImage, WORKLOAD_IMAGE_REF, type Image } from "./images.js";
import { startProcess, waitUntil } from "./proc.js";

const version = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

interface Unpacked {
  manifest: ArchiveManifestEntry;
  config: { config: ImageConfig; rootfs: { diff_ids: string[] } };
  archiveDir: string;
  rootfs: string;
}

/** What a runtime does with the archive: read manifest and config, apply the layers in order. */
function unpack(image: Image, dir: string): Unpacked {
  const archiveDir = join(dir, "archive");
  const rootfs = join(dir, "rootfs");
  mkdirSync(archiveDir, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  execFileSync("tar", ["-xf", image.tarPath, "-C", archiveDir]);
  const [manifest, ...others] = JSON.parse(
    readFileSync(join(archiveDir, "manifest.json"), "utf8"),
  ) as ArchiveManifestEntry[];
  assert.ok(manifest);
  assert.equal(others.length, 0, "one image per archive");
  for (const layer of manifest.Layers) execFileSync("tar", ["-xf", join(archiveDir, layer), "-C", rootfs]);
  const config = JSON.parse(readFileSync(join(archiveDir, manifest.Config), "utf8")) as Unpacked["config"];
  return { manifest, config, archiveDir, rootfs };
}

/** Runs a command in the image's root file system as its user, with its environment. */
function inImage(u: Unpacked, command: string[], user = u.config.config.User ?? "0:0") {
  const env = Object.fromEntries(u.config.config.Env.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  const r = spawnSync("/usr/sbin/chroot", [`--userspec=${user}`, u.rootfs, ...command], {
    env,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("images for the node, built without a daemon", () => {
  let dir: string;
  let arca: Image;
  let busybox: Image;
  let arcaFs: Unpacked;
  let busyboxFs: Unpacked;
  let firstBuildMs: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "arca-images-"));
    const started = Date.now();
    busybox = await workloadImage();
    arca = await arcaImage();
    firstBuildMs = Date.now() - started;
    arcaFs = unpack(arca, join(dir, "arca"));
    busyboxFs = unpack(busybox, join(dir, "busybox"));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("does not build again when nothing changed: the same archive, untouched, at once", async () => {
    const mtime = statSync(arca.tarPath).mtimeMs;
    const started = Date.now();
    const again = await arcaImage();
    const tookMs = Date.now() - started;
    assert.deepEqual(again, arca);
    assert.equal(statSync(again.tarPath).mtimeMs, mtime);
    assert.deepEqual(await workloadImage(), busybox);
    assert.ok(tookMs < 5_000, `the cached lookup took ${tookMs} ms (the first call ${firstBuildMs} ms)`);
  });

  it("tags Arca's image with its version and a hash of its inputs", () => {
    assert.match(arca.ref, new RegExp(`^arca\\.local/arca:${version.replace(/\./g, "\\.")}-[0-9a-f]{12}$`));
    assert.ok(arca.tarPath.endsWith(`arca-${arca.ref.split("-").pop()}.tar`), arca.tarPath);
    assert.deepEqual(arcaFs.manifest.RepoTags, [arca.ref]);
  });

  it("writes a docker-archive whose layers are the ones its config names", async () => {
    for (const u of [arcaFs, busyboxFs]) {
      const digests = await Promise.all(u.manifest.Layers.map((l) => sha256File(join(u.archiveDir, l))));
      assert.deepEqual(
        u.config.rootfs.diff_ids,
        digests.map((d) => `sha256:${d}`),
      );
    }
    assert.equal(arcaFs.manifest.Layers.length, 3, "runtime, node_modules, program");
  });

  it("runs Arca as the Deployment's non-root user with the Dockerfile's entrypoint", () => {
    const c = arcaFs.config.config;
    assert.equal(c.User, "10001:10001");
    assert.deepEqual(c.Entrypoint, ["node", "--max-semi-space-size=8", "/app/dist/src/cli/main.js"]);
    assert.ok(c.Env.includes("HOME=/tmp"), c.Env.join(" "));
    assert.equal(statSync(join(arcaFs.rootfs, "tmp")).mode & 0o7777, 0o1777);
    assert.match(readFileSync(join(arcaFs.rootfs, "etc/passwd"), "utf8"), /^arca:x:10001:10001:/m);
  });

  it("prints its version under chroot as uid 10001, through `arca` on PATH and the entrypoint", () => {
    const viaPath = inImage(arcaFs, ["arca", "version"]);
    assert.equal(viaPath.code, 0, viaPath.stderr);
    assert.match(viaPath.stdout, new RegExp(`^Arca:\\s+${version.replace(/\./g, "\\.")}$`, "m"));
    assert.match(viaPath.stdout, new RegExp(`^Node.js:\\s+${process.versions.node}$`, "m"));
    const viaEntrypoint = inImage(arcaFs, [...(arcaFs.config.config.Entrypoint ?? []), "version"]);
    assert.equal(viaEntrypoint.code, 0, viaEntrypoint.stderr);
    assert.equal(viaEntrypoint.stdout, viaPath.stdout);
    const kubectlPlugin = inImage(arcaFs, ["kubectl-arca", "version"]);
    assert.equal(kubectlPlugin.stdout, viaPath.stdout);
  });

  it("backs up with its addons into a repository that restic reads", async () => {
    writeFileSync(join(arcaFs.rootfs, "tmp/password"), "image test\n", { mode: 0o644 });
    const repo = ["--repo", "file:///tmp/repo", "--password-file", "/tmp/password"];
    const init = inImage(arcaFs, ["arca", "repo", "init", ...repo]);
    assert.equal(init.code, 0, init.stderr);
    const backup = inImage(arcaFs, ["arca", "fs", "backup", "/app/dist/src", ...repo]);
    assert.equal(backup.code, 0, backup.stderr);
    const snapshots = await resticSnapshots({
      repo: join(arcaFs.rootfs, "tmp/repo"),
      env: { RESTIC_PASSWORD: "image test" },
    });
    assert.deepEqual(
      snapshots.map((s) => s.paths),
      [["/app/dist/src"]],
    );
  });

  it("gives test workloads a shell, and sleeps by default as containerd's sandbox", () => {
    assert.deepEqual(busyboxFs.manifest.RepoTags, [WORKLOAD_IMAGE_REF]);
    assert.deepEqual(busyboxFs.config.config.Cmd, ["/bin/sleep", "2147483647"]);
    const r = inImage(busyboxFs, ["sh", "-c", "echo ok; id -u"], "65534:65534");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ok\n65534\n");
  });

  it("imports both into a containerd, whose CRI then knows their tags", async () => {
    const cd = join(dir, "containerd");
    const socket = join(cd, "containerd.sock");
    mkdirSync(cd, { recursive: true });
    // Only what import needs: own root, state and sockets; nothing under /opt, /run or /var.
    writeFileSync(
      join(cd, "config.toml"),
      `version = 2
root = "${join(cd, "root")}"
state = "${join(cd, "state")}"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(cd, "opt")}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${WORKLOAD_IMAGE_REF}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "${join(cd, "cni")}"
`,
    );
    const containerd = startProcess({
      name: "containerd (images test)",
      command: "containerd",
      args: ["--config", join(cd, "config.toml")],
      logFile: join(cd, "containerd.log"),
    });
    try {
      await waitUntil(
        containerd,
        "containerd's socket",
        async () => execFileSync("ctr", ["--address", socket, "version"]).length > 0,
        30_000,
      );
      assert.deepEqual(await importImage(busybox.tarPath, socket), [busybox.ref]);
      assert.deepEqual(await importImage(arca.tarPath, socket), [arca.ref]);
      const listed = execFileSync("ctr", ["--address", socket, "-n", "k8s.io", "images", "ls", "-q"], {
        encoding: "utf8",
      });
      // Beside the tags, the CRI names each image by its ID (the digest of its config).
      const imageIds = [arcaFs, busyboxFs].map((u) => `sha256:${u.manifest.Config.replace(/\.json$/, "")}`);
      assert.deepEqual(listed.trim().split("\n").sort(), [arca.ref, busybox.ref, ...imageIds].sort());
    } finally {
      await containerd.stop();
    }
  });

  it("names the archive and the socket when the import fails", async () => {
    const missing = join(dir, "no-such.sock");
    await assert.rejects(importImage(busybox.tarPath, missing), (err: Error) => {
      assert.ok(err.message.includes(busybox.tarPath), err.message);
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
  });
});
