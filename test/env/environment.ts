// One cluster and one S3 server with a bucket: started once for a whole test run (or by
// `npm run env:up`) and described by a state file that test processes read.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clusterHandle, startCluster, type Cluster, type ClusterInfo } from "./cluster.js";
import { stopNode } from "./node.js";
import { isAlive, stopPid } from "./proc.js";
import { s3Handle, startS3Server, type S3Server, type S3ServerInfo } from "./s3.js";

export interface EnvironmentState {
  cluster: ClusterInfo;
  s3: S3ServerInfo;
  bucket: string;
}

export interface TestEnvironment {
  cluster: Cluster;
  s3: S3Server;
  /** A bucket created for this environment. */
  bucket: string;
  /** Stops what this handle started; a shared environment is left to its owner. */
  stop(): Promise<void>;
}

/** Set by scripts/test.mjs to the state file of the environment it started for the run. */
export const STATE_ENV_VAR = "ARCA_TEST_ENV";

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function envScript(state: EnvironmentState, stateFile: string, binDir: string): string {
  const vars: Record<string, string> = {
    KUBECONFIG: state.cluster.kubeconfigPath,
    // `npm test` in this shell then reuses these servers instead of starting its own.
    [STATE_ENV_VAR]: stateFile,
    AWS_ACCESS_KEY_ID: state.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: state.s3.secretAccessKey,
    AWS_REGION: state.s3.region,
    ARCA_S3_ENDPOINT: state.s3.endpoint,
    ARCA_S3_BUCKET: state.bucket,
  };
  if (state.cluster.node) {
    // Arca's image as imported into the node, and a small image with a shell for test workloads
    // (both with imagePullPolicy: Never: there is no registry).
    vars.ARCA_IMAGE = state.cluster.node.arcaImage;
    vars.ARCA_WORKLOAD_IMAGE = state.cluster.node.workloadImage;
  }
  const lines = ["# Written by `npm run env:up`; `npm run env:down` stops these servers."];
  for (const [k, v] of Object.entries(vars)) {
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  // kubectl built for the cluster's own version comes first on PATH.
  lines.push(`export PATH=${shellQuote(binDir)}:"$PATH"`);
  return lines.join("\n") + "\n";
}

/** Starts the servers detached, so that they outlive this process, and writes the state. */
export async function environmentUp(dir: string): Promise<EnvironmentState> {
  mkdirSync(dir, { recursive: true });
  const s3 = await startS3Server({ name: "s3", dir: join(dir, "s3"), detached: true });
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      name: "arca-test",
      dir: join(dir, "cluster"),
      detached: true,
      node: true,
    });
  } catch (err) {
    await s3.stop();
    throw err;
  }
  const bucket = await s3.createBucket("arca");
  const { kubeConfig: _k, stop: _s, ...clusterInfo } = cluster;
  const { client: _c, createBucket: _b, stop: _t, ...s3Info } = s3;
  const state: EnvironmentState = { cluster: clusterInfo, s3: s3Info, bucket };
  writeFileSync(join(dir, "env.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  return state;
}

export function readState(stateFile: string): EnvironmentState {
  if (!existsSync(stateFile))
    throw new Error(`no test environment state at ${stateFile}; run \`npm run env:up\``);
  return JSON.parse(readFileSync(stateFile, "utf8")) as EnvironmentState;
}

/** Stops every process that the state names, by PID, controllers before storage. */
export async function environmentDown(stateFile: string): Promise<number> {
  const state = readState(stateFile);
  const pids = [...[...state.cluster.pids].reverse(), state.s3.pid];
  let stopped = 0;
  if (state.cluster.node) {
    // Its containers, mounts, bridge and the host's sysctls and chains, not only its PIDs.
    const problems = await stopNode(state.cluster.node);
    stopped += state.cluster.node.pids.length;
    if (problems.length) throw new Error(`stopping the test node: ${problems.join("; ")}`);
  }
  for (const pid of pids) {
    if (isAlive(pid)) {
      await stopPid(pid);
      stopped++;
    }
  }
  return stopped;
}

/**
 * The environment for a test file: the shared one when the test run started it, otherwise a
 * private one that `stop()` tears down.
 */
export async function testEnvironment(options: { node?: boolean } = {}): Promise<TestEnvironment> {
  const stateFile = process.env[STATE_ENV_VAR];
  if (stateFile) {
    const state = readState(stateFile);
    const noop = async () => {};
    return {
      cluster: clusterHandle(state.cluster, noop),
      s3: s3Handle(state.s3, noop),
      bucket: state.bucket,
      stop: noop,
    };
  }
  const s3 = await startS3Server();
  let cluster: Cluster;
  try {
    cluster = await startCluster({ node: options.node });
  } catch (err) {
    await s3.stop();
    throw err;
  }
  const bucket = await s3.createBucket();
  return {
    cluster,
    s3,
    bucket,
    async stop() {
      await cluster.stop();
      await s3.stop();
    },
  };
}
