// A real S3-compatible object store on loopback: MinIO, built from its Go module. Two of them
// stand in for two regions.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { minioAdminBinary, minioBinary } from "./binaries.js";
import { freePorts } from "./ports.js";
import { httpGet } from "./probe.js";
import { startProcess, waitUntil } from "./proc.js";

export interface S3ServerOptions {
  name?: string;
  region?: string;
  dir?: string;
  detached?: boolean;
  /** Reuse a secret, to restart a server on the same data directory. */
  secretAccessKey?: string;
}

/** What a server is, in a form that a state file can carry to another process. */
export interface S3ServerInfo {
  name: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  pid: number;
}

export interface S3Server extends S3ServerInfo {
  /** A client with the root credentials, path-style, as tests and env.sh use it. */
  client(): S3Client;
  /** Creates a bucket with a unique name (or the given one) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Adds a user whose only rights are `policy` (an S3 policy document). */
  addUser(user: string, secret: string, policy: object): Promise<void>;
  /** Stops the server, if this handle owns it; a no-op on a shared server's handle. */
  stop(): Promise<void>;
  /** Stops the server process but keeps its data, to simulate an outage (owned servers only). */
  halt(): Promise<void>;
}

export function s3Handle(info: S3ServerInfo, stop: () => Promise<void>, halt = stop): S3Server {
  const client = () =>
    new S3Client({
      endpoint: info.endpoint,
      region: info.region,
      forcePathStyle: true,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    });
  return {
    ...info,
    client,
    async createBucket(bucket = `arca-test-${randomBytes(4).toString("hex")}`) {
      const c = client();
      try {
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
      } finally {
        c.destroy();
      }
      return bucket;
    },
    async addUser(user, secret, policy) {
      const dir = mkdtempSync(join(tmpdir(), "arca-policy-"));
      try {
        const file = join(dir, "policy.json");
        writeFileSync(file, JSON.stringify(policy));
        const host = new URL(info.endpoint).host;
        execFileSync(
          await minioAdminBinary(),
          [host, info.accessKeyId, info.secretAccessKey, user, secret, `${user}-policy`, file],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
      } catch (err) {
        const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
        throw new Error(`adding MinIO user ${user}: ${stderr || String(err)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    stop,
    halt,
  };
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const binary = await minioBinary();
  const name = options.name ?? "s3";
  const region = options.region ?? "us-east-1";
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `arca-${name}-`));
  const ownsDir = options.dir === undefined;
  mkdirSync(join(dir, "data"), { recursive: true });
  const [port, consolePort] = (await freePorts(2)) as [number, number];
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = "arca-test-root";
  const secretAccessKey = options.secretAccessKey ?? randomBytes(18).toString("base64url");

  const proc = startProcess({
    name: `${name}/minio`,
    command: binary,
    args: [
      "server",
      "--address",
      `127.0.0.1:${port}`,
      "--console-address",
      `127.0.0.1:${consolePort}`,
      "--quiet",
      join(dir, "data"),
    ],
    logFile: join(dir, "minio.log"),
    detached: options.detached ?? false,
    env: {
      ...process.env,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_SITE_REGION: region,
      MINIO_BROWSER: "off",
      MINIO_UPDATE: "off",
      MINIO_CI_CD: "1",
    },
  });
  const stop = async () => {
    await proc.stop();
    if (ownsDir && !process.env.ARCA_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      proc,
      "MinIO /minio/health/ready",
      async () => (await httpGet(`${endpoint}/minio/health/ready`)).status === 200,
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return s3Handle({ name, endpoint, region, accessKeyId, secretAccessKey, dir, pid: proc.pid }, stop, () =>
    proc.stop(),
  );
}
