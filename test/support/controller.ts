// The in-cluster component as the tests run it: `arca install` into a fresh namespace, then
// `arca server` as a local process with the token of the ServiceAccount install created (there
// is no kubelet to run its Pod), so the shipped RBAC is what gets exercised.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { ArcaObjects } from "../../src/api/objects.js";
import { KubeClient } from "../../src/kube/client.js";
import { runArca } from "../cli/run.js";
import type { TestEnvironment } from "../env/environment.js";
import { serviceAccountKubeconfig } from "./install.js";
import type { ResticRepo } from "./restic.js";
import { eventually, uniqueName } from "./wait.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export const PASSWORD = "controller test password";

export interface Installed {
  namespace: string;
  /** The controller's identity: ServiceAccount arca's token. */
  kubeconfig: string;
  /** Admin access to Arca's objects in the namespace, for the test's own reads and writes. */
  objects: ArcaObjects;
  admin: KubeConfig;
  scratch: string;
  /** The location as restic names it, for the independent reader. */
  restic: ResticRepo;
}

/**
 * `arca install` with an S3 location under a fresh prefix; `endpoint` may be a fault proxy.
 * With `directory`, a file:// location there instead (`--provider file --bucket DIR`).
 */
export async function installArca(
  env: TestEnvironment,
  options: {
    cluster?: { kubeConfig(): KubeConfig; kubeconfigPath: string };
    prefix?: string;
    endpoint?: string;
    /** The controller's image; a cluster with a node runs it (env.cluster.node.arcaImage). */
    image?: string;
    directory?: string;
  } = {},
): Promise<Installed> {
  const cluster = options.cluster ?? env.cluster;
  const namespace = uniqueName("arca");
  const scratch = mkdtempSync(join(tmpdir(), `${namespace}-`));
  const secretFile = join(scratch, "credentials.yaml");
  writeFileSync(
    secretFile,
    `apiVersion: v1\nkind: Secret\nmetadata: {name: arca-credentials}\nstringData:\n` +
      `  access-key-id: ${env.s3.accessKeyId}\n  access-key-secret: ${env.s3.secretAccessKey}\n`,
  );
  writeFileSync(join(scratch, "password"), `${PASSWORD}\n`);
  const location = options.directory
    ? ["--provider", "file", "--bucket", options.directory]
    : [
        "--provider",
        "s3",
        "--bucket",
        env.bucket,
        "--prefix",
        options.prefix ?? namespace,
        "--endpoint",
        options.endpoint ?? env.s3.endpoint,
        "--secret-file",
        secretFile,
      ];
  const result = await runArca(
    [
      "-n",
      namespace,
      "install",
      ...location,
      "--password-file",
      join(scratch, "password"),
      "--image",
      options.image ?? "arca:test",
      // The node agent runs only where the controller's image does (the node of a cluster that
      // has one, with the kubelet's root there); elsewhere it would only fail to pull arca:test.
      ...(options.image && env.cluster.node
        ? ["--kubelet-root-dir", env.cluster.node.kubeletRootDir]
        : ["--no-node-agent"]),
    ],
    { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
  );
  if (result.code !== 0) throw new Error(`arca install failed: ${result.stderr}`);
  const admin = cluster.kubeConfig();
  const kubeconfig = await serviceAccountKubeconfig(admin, namespace, join(scratch, "controller.kubeconfig"));
  const restic: ResticRepo = options.directory
    ? { repo: options.directory, env: { RESTIC_PASSWORD: PASSWORD } }
    : {
        repo: `s3:${env.s3.endpoint}/${env.bucket}/${options.prefix ?? namespace}`,
        env: {
          AWS_ACCESS_KEY_ID: env.s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
          RESTIC_PASSWORD: PASSWORD,
        },
      };
  return {
    restic,
    namespace,
    kubeconfig,
    objects: new ArcaObjects(new KubeClient(admin), namespace),
    admin,
    scratch,
  };
}

export interface ControllerProcess {
  pid: number;
  metricsUrl: string;
  log(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up, as when a node dies. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Short periods, so that what takes minutes in production takes seconds here. */
export const FAST = [
  "--sync-interval",
  "2s",
  "--gc-interval",
  "2s",
  "--validation-interval",
  "2s",
  "--lease-duration",
  "4s",
];

export async function startController(
  installed: Installed,
  extra: string[] = [],
): Promise<ControllerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      main,
      "--kubeconfig",
      installed.kubeconfig,
      "-n",
      installed.namespace,
      "server",
      "--metrics-bind-address",
      `127.0.0.1:${port}`,
      ...FAST,
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ARCA_LOG_LEVEL: "info" } },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const metricsUrl = `http://127.0.0.1:${port}`;
  await eventually(
    "the controller's /healthz",
    async () => (await fetch(`${metricsUrl}/healthz`)).ok,
    30_000,
  );
  return {
    pid: child.pid as number,
    metricsUrl,
    log: () => output,
    exited,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Whether this instance leads, from its own /readyz and /metrics. */
export async function leads(c: ControllerProcess): Promise<boolean> {
  const text = await (await fetch(`${c.metricsUrl}/metrics`)).text();
  return /^arca_leader 1$/m.test(text);
}

/** Waits until a Backup or Restore leaves New and InProgress, and returns it. */
export function finished<K extends "Backup" | "Restore">(
  installed: Installed,
  kind: K,
  name: string,
  timeoutMs = 60_000,
) {
  return eventually(
    `${kind} ${name} to finish`,
    async () => {
      const o = await installed.objects.get(kind, name);
      const phase = o?.status?.phase;
      return phase && !["New", "InProgress"].includes(phase) ? o : undefined;
    },
    timeoutMs,
  );
}

/** A namespace holding `count` small ConfigMaps (cm-0, cm-1, ...), for backups that take a moment. */
export function namespaceWithConfigMaps(namespace: string, count: number): KubernetesObject[] {
  return [
    forNamespace(namespace).result(),
    ...Array.from({ length: count }, (_, i) =>
      forConfigMap(namespace, `cm-${i}`)
        .data({ i: String(i) })
        .result(),
    ),
  ];
}
