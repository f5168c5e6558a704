// docker-archive tars (what `docker save` writes and `ctr images import` reads) made with the
// system tar, and their import into a containerd: no daemon, no registry.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { connect as netConnect } from "node:net";
import { connect as http2Connect } from "node:http2";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Runs a command; a failure says what was being done and shows the command's output. */
export async function runTool(what: string, command: string, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
    const output = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || e.message;
    throw new Error(`${what}: ${command} ${args.join(" ")} failed (exit ${e.code}):\n${output.slice(-4000)}`);
  }
}

/** Same bytes for the same files: names sorted, times and owners fixed. */
const DETERMINISTIC = [
  "--sort=name",
  "--mtime=@0",
  "--numeric-owner",
  "--owner=0",
  "--group=0",
  "--format=gnu",
];

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (d) => hash.update(d))
      .once("error", reject)
      .once("end", () => resolve(hash.digest("hex")));
  });
}

export interface LayerSpec {
  /** A directory holding the layer's files, as they appear in the image. */
  root: string;
  /** What made it, for the image's history. */
  createdBy: string;
  /** A chmod-style mode applied to every entry (e.g. "a+rX,go-w"), or none to keep the modes. */
  mode?: string;
}

export interface ImageConfig {
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  WorkingDir: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
}

/** docker-archive's manifest.json: one entry per image. */
export interface ArchiveManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/**
 * Writes a docker-archive tar of the layers (lowest first) to `out`: built in `work`, written to
 * a temporary name and renamed, so that an interrupted build never leaves a tar that looks whole.
 */
export async function writeDockerArchive(
  out: string,
  work: string,
  ref: string,
  layers: LayerSpec[],
  config: ImageConfig,
): Promise<void> {
  const staging = join(work, "archive");
  mkdirSync(staging, { recursive: true });
  const diffIds: string[] = [];
  const layerFiles: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const file = join(work, `layer-${i}.tar`);
    const args = ["--create", "--file", file, "--directory", layer.root, ...DETERMINISTIC];
    if (layer.mode) args.push(`--mode=${layer.mode}`);
    await runTool(`packing layer ${i} (${layer.createdBy}) of ${ref}`, "tar", [...args, "."]);
    const diff = await sha256File(file);
    mkdirSync(join(staging, diff), { recursive: true });
    renameSync(file, join(staging, diff, "layer.tar"));
    diffIds.push(`sha256:${diff}`);
    layerFiles.push(`${diff}/layer.tar`);
  }
  const epoch = "1970-01-01T00:00:00Z";
  const configJson = JSON.stringify({
    architecture: ARCH[process.arch] ?? process.arch,
    os: "linux",
    created: epoch,
    config,
    rootfs: { type: "layers", diff_ids: diffIds },
    history: layers.map((l) => ({ created: epoch, created_by: l.createdBy })),
  });
  const configName = `${createHash("sha256").update(configJson).digest("hex")}.json`;
  writeFileSync(join(staging, configName), configJson);
  const manifest: ArchiveManifestEntry[] = [{ Config: configName, RepoTags: [ref], Layers: layerFiles }];
  writeFileSync(join(staging, "manifest.json"), JSON.stringify(manifest));
  const partial = `${out}.partial-${process.pid}`;
  try {
    // manifest.json first, so that readArchiveManifest stops reading at once.
    await runTool(`writing the image archive ${out}`, "tar", [
      ...["--create", "--file", partial, "--directory", staging, ...DETERMINISTIC],
      ...["manifest.json", configName, ...layerFiles],
    ]);
    renameSync(partial, out);
  } finally {
    rmSync(partial, { force: true });
  }
}

export async function readArchiveManifest(tarPath: string): Promise<ArchiveManifestEntry[]> {
  const text = await runTool(`reading manifest.json of the image archive ${tarPath}`, "tar", [
    ...["--extract", "--to-stdout", "--occurrence=1", "--file", tarPath, "manifest.json"],
  ]);
  return JSON.parse(text) as ArchiveManifestEntry[];
}

/** Protobuf field 1 of type string/bytes (wire type 2), the only kind the CRI request below needs. */
function field1(payload: Buffer): Buffer {
  const len: number[] = [];
  let n = payload.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...len]), payload]);
}

/**
 * Asks containerd's CRI (what the kubelet talks to) for an image's status over gRPC:
 * runtime.v1.ImageService/ImageStatus. True when the CRI knows the image. Hand-encoded, as
 * the request is one nested string and the project has no gRPC dependency.
 */
export async function criHasImage(socket: string, ref: string): Promise<boolean> {
  const request = field1(field1(Buffer.from(ref))); // ImageStatusRequest{image: ImageSpec{image: ref}}
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  request.copy(frame, 5);
  const session = http2Connect("http://localhost", { createConnection: () => netConnect(socket) });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      session.once("error", reject);
      const stream = session.request({
        ":method": "POST",
        ":path": "/runtime.v1.ImageService/ImageStatus",
        "content-type": "application/grpc",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      stream.on("response", (h) => (status = h["grpc-status"] as string | undefined));
      stream.on("trailers", (h) => (status = (h["grpc-status"] as string | undefined) ?? status));
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.once("error", reject);
      stream.once("end", () => {
        if (status !== "0") return reject(new Error(`CRI ImageStatus answered grpc-status ${status}`));
        const body = Buffer.concat(chunks);
        // An unknown image is an empty ImageStatusResponse; a known one carries field 1 (Image).
        resolve(body.length > 5 && body[5] === 0x0a);
      });
      stream.end(frame);
    });
  } finally {
    session.close();
  }
}

/**
 * Imports a docker-archive into containerd's k8s.io namespace (the one the CRI serves), and
 * waits until the CRI reports every tag of the archive, as the kubelet will look them up.
 */
export async function importImage(tarPath: string, containerdSocket: string): Promise<string[]> {
  if (!existsSync(containerdSocket))
    throw new Error(
      `cannot import ${tarPath}: there is no containerd socket at ${containerdSocket} (is containerd running?)`,
    );
  const refs = (await readArchiveManifest(tarPath)).flatMap((m) => m.RepoTags);
  await runTool(`importing the image archive ${tarPath} into the containerd at ${containerdSocket}`, "ctr", [
    ...["--address", containerdSocket, "--namespace", "k8s.io", "images", "import", tarPath],
  ]);
  // The CRI learns of imported images from containerd's events: give it a moment.
  const deadline = Date.now() + 20_000;
  for (const ref of refs) {
    let lastError = "";
    for (;;) {
      try {
        if (await criHasImage(containerdSocket, ref)) break;
      } catch (err) {
        lastError = `; last error: ${(err as Error).message}`;
      }
      if (Date.now() > deadline)
        throw new Error(
          `imported ${tarPath} into the containerd at ${containerdSocket}, but its CRI does not know ${ref} ` +
            `after 20s (is the CRI plugin enabled in that containerd's config?)${lastError}`,
        );
      await sleep(200);
    }
  }
  return refs;
}
