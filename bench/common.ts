// The objects the resource benches work on, shared by bench/resources.ts (backup) and
// bench/restore.ts (restore): --objects N ConfigMaps, Secrets, Deployments, Services and custom
// resources over 100 namespaces, created with bounded parallelism over KubeClient, and the
// wait until the controllers have done their part (one ReplicaSet per Deployment).
import { spawn } from "node:child_process";
import type { Cluster } from "../test/env/cluster.js";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1CustomResourceDefinition } from "@kubernetes/client-node";
import { neverBackedUp } from "../src/backup/filters.js";
import { Slots } from "../src/common/slots.js";
import { KubeClient, parseJson } from "../src/kube/client.js";
import { discoverResources } from "../src/kube/discovery.js";
import { groupResource, resourcePath, type ApiResource } from "../src/kube/resources.js";
import { apiError } from "../src/kube/transport.js";
import { forConfigMap, forCrd, forDeployment, forNamespace, forSecret } from "../test/builders/index.js";

export const NAMESPACES = 100;
export const GROUP = "bench.arca.test";
export type Res = Pick<ApiResource, "group" | "version" | "resource">;
export const core = (resource: string): Res => ({ group: "", version: "v1", resource });
export const DEPLOYMENTS: Res = { group: "apps", version: "v1", resource: "deployments" };
export const WIDGETS: Res = { group: GROUP, version: "v1", resource: "widgets" };
export const CRDS: Res = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
};

export const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);
export const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// --- the objects ------------------------------------------------------------------------------

/** Deterministic config-file-like text of `bytes` characters. */
export function text(seed: number, bytes: number): string {
  let s = (seed * 2654435761) >>> 0 || 1;
  const parts: string[] = [];
  for (let n = 0; n < bytes; n += (parts.at(-1) as string).length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    parts.push(`option.${(s >>> 20) % 97}.${n} = ${s.toString(36)}-${(s >>> 7).toString(16)}\n`);
  }
  return parts.join("").slice(0, bytes);
}

export const nsName = (i: number) => `bench-${String(i).padStart(3, "0")}`;

// Headless and without a selector: the test cluster's service range has 254 addresses, and
// the endpoints controllers (20 writes/s each) get nothing to do.
export const SERVICE_SPEC = { clusterIP: "None", ports: [{ name: "http", port: 80, targetPort: 8080 }] };

/** Object i: 40% ConfigMaps, 24% Secrets, 26% Widgets, 8% Services, 2% Deployments; 1-2 KiB each. */
export function objectFor(i: number): [Res, string, object] {
  const [ns, name, kind] = [nsName(i % NAMESPACES), `obj-${i}`, i % 50];
  const labels = { "arca-bench": "1", tier: ["web", "api", "batch"][i % 3] as string };
  const data = { "app.conf": text(i, 1024 + ((i * 37) % 1024)) };
  const metadata = { namespace: ns, name, labels };
  // replicas 0: the controllers make one ReplicaSet and no Pods (no kubelet would run them).
  if (kind === 0) return [DEPLOYMENTS, ns, forDeployment(ns, name).replicas(0).annotations(data).result()];
  if (kind <= 4)
    return [core("services"), ns, { apiVersion: "v1", kind: "Service", metadata, spec: SERVICE_SPEC }];
  if (kind <= 24) return [core("configmaps"), ns, forConfigMap(ns, name).labels(labels).data(data).result()];
  if (kind <= 36) return [core("secrets"), ns, forSecret(ns, name).labels(labels).stringData(data).result()];
  return [WIDGETS, ns, { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata, spec: { owner: ns, ...data } }];
}

export async function post(client: KubeClient, path: string, body: object | string): Promise<void> {
  const what = `creating ${path}`;
  const json = typeof body === "string" ? body : JSON.stringify(body);
  const res = await client.request(what, { method: "POST", path, body: json });
  // 409: a retried POST whose first attempt got through.
  if (res.status !== 201 && res.status !== 200 && res.status !== 409) throw apiError(what, res);
}

/** Runs task(0..n-1), `concurrency` at a time. */
export async function pool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

export async function populate(client: KubeClient, objects: number): Promise<void> {
  const start = process.hrtime.bigint();
  const namespaces = resourcePath(core("namespaces"));
  await pool(NAMESPACES, 32, (i) => post(client, namespaces, forNamespace(nsName(i)).result()));
  const crd = forCrd(GROUP, "Widget").result();
  // The builder spells the schema flag the typed client's way; on the wire it has dashes.
  const wire = JSON.stringify(crd).replace(/"x_kubernetes_\w+"/g, (key) => key.replaceAll("_", "-"));
  await post(client, resourcePath(CRDS), wire);
  for (let ready = false; !ready;) {
    await sleep(200);
    const path = resourcePath(CRDS, "", crd.metadata?.name);
    const got = await client.getJson<V1CustomResourceDefinition>("reading the CRD", path);
    ready =
      got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true &&
      (await client.request("probing widgets", { path: resourcePath(WIDGETS) })).status === 200;
  }
  let done = 0;
  const timer = setInterval(() => log(`created ${done} of ${objects} objects`), 15_000);
  await pool(objects, 32, async (i) => {
    const [r, ns, body] = objectFor(i);
    await post(client, resourcePath(r, ns), body);
    done++;
  }).finally(() => clearInterval(timer));
  const s = seconds(start);
  log(
    `created ${objects} objects over ${NAMESPACES} namespaces in ${s.toFixed(1)} s, ${(objects / s).toFixed(0)}/s`,
  );
}

// --- the cluster settling ---------------------------------------------------------------------

export type Listed = { metadata?: { generation?: number }; status?: { observedGeneration?: number } };

/** Every type a backup of everything lists, paginated, cluster-wide; returns the item count. */
export async function listAll(
  client: KubeClient,
  visit?: (r: ApiResource, items: Listed[]) => void,
): Promise<number> {
  const { resources } = await discoverResources(client);
  const slots = new Slots(8);
  let items = 0;
  const listType = async (r: ApiResource) => {
    const what = `listing ${groupResource(r)}`;
    let token = "";
    do {
      const query = new URLSearchParams({ limit: "500", ...(token ? { continue: token } : {}) });
      const res = await client.request(what, { path: `${resourcePath(r)}?${query}` });
      if (res.status !== 200) throw apiError(what, res);
      const body = parseJson<{ metadata?: { continue?: string }; items?: Listed[] }>(what, res.body);
      items += body.items?.length ?? 0;
      visit?.(r, body.items ?? []);
      token = body.metadata?.continue ?? "";
    } while (token);
  };
  const types = resources.filter((r) => r.preferred && !neverBackedUp(r));
  await Promise.all(types.map((r) => slots.run(() => listType(r))));
  return items;
}

/** Waits until the controllers have made their ReplicaSets and the object count holds still. */
export async function settle(client: KubeClient, deployments: number): Promise<void> {
  const start = process.hrtime.bigint();
  for (let previous = -1; ; await sleep(3000)) {
    let ready = 0;
    const total = await listAll(client, (r, items) => {
      if (r.resource === "deployments" || r.resource === "replicasets")
        for (const o of items)
          if ((o.status?.observedGeneration ?? 0) >= (o.metadata?.generation ?? 1)) ready++;
    });
    if (ready >= 2 * deployments && total === previous)
      return log(`the cluster holds ${total} listable objects (settled in ${seconds(start).toFixed(1)} s)`);
    previous = total;
    if (seconds(start) > 900) return log("the controllers are still busy after 15 minutes; measuring anyway");
  }
}

// --- running the CLI and the baselines as child processes ------------------------------------

// Compiled, the benches are dist/bench/*.js: the project is two levels up, and the CLI runs
// from dist/ without tsx, as installed.
const compiled = import.meta.url.endsWith(".js");
export const root = new URL(compiled ? "../.." : "..", import.meta.url).pathname;
const runner = compiled ? [] : ["--import", "tsx"];
/** The path to run for a source file: itself from source, its build when compiled. */
export const entry = (path: string) => (compiled ? `dist/${path.replace(/\.ts$/, ".js")}` : path);

/** Wall time, CPU time (user + system) and peak RSS of a child process, and what it printed. */
export type Measured = { seconds: number; cpuSeconds: number; rssMiB: number; stdout: string };

let running: number | undefined;
/** The measured child running now, for an interrupted bench to stop by PID. */
export const runningChild = (): number | undefined => running;

/** The node flags of a script's `#!/usr/bin/env -S node ...` line (the CLI's), as its users get them. */
function shebangFlags(script: string): string[] {
  const first = readFileSync(join(root, script), "utf8").split("\n", 1)[0] ?? "";
  return /^#!\/usr\/bin\/env -S node\s(.*)$/.exec(first)?.[1]?.trim().split(/\s+/) ?? [];
}

/** Runs `node ARGS` under GNU time, with the flags of the script's #! line: wall and CPU time, peak RSS, stdout. */
export function measure(args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise<Measured>((resolve, reject) => {
    const start = process.hrtime.bigint();
    const node = [process.execPath, ...shebangFlags(args[0] ?? ""), ...runner];
    const child = spawn("/usr/bin/time", ["-f", "%M %U %S", ...node, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      detached: true, // its own process group, so that an interrupted bench can end it by PID
      stdio: ["ignore", "pipe", "pipe"],
    });
    running = child.pid;
    const [out, err]: [Buffer[], Buffer[]] = [[], []];
    child.stdout.on("data", (c: Buffer) => void out.push(c));
    child.stderr.on("data", (c: Buffer) => void err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      running = undefined;
      const [stdout, stderr] = [Buffer.concat(out).toString(), Buffer.concat(err).toString()];
      const [rss, user, system] = (stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
      const [rssMiB, cpuSeconds] = [(rss ?? NaN) / 1024, (user ?? NaN) + (system ?? NaN)];
      // 3: arca's PartiallyFailed, still a complete run
      if (code === 0 || code === 3) resolve({ seconds: seconds(start), cpuSeconds, rssMiB, stdout });
      else reject(new Error(`${args.slice(0, 3).join(" ")} exited with ${code}:\n${stderr.slice(-3000)}`));
    });
  });
}

// --- a cluster full of objects, for one bench run ---------------------------------------------

export const PASSWORD = "benchmark password";

export interface BenchRun {
  /** A temporary directory for the run; removed at exit unless kept. */
  work: string;
  cluster: Cluster;
  client: KubeClient;
  /** The environment for the CLI and the baselines: the cluster's kubeconfig and the password. */
  env: NodeJS.ProcessEnv;
  /** Stops the cluster unless it is kept. */
  done(): Promise<void>;
}

/**
 * Starts a private cluster, fills it with `objects` objects and waits until it settles. At exit,
 * and on SIGINT or SIGTERM, the measured child and the cluster are stopped by PID and the
 * directory removed; with `keep`, the cluster stays and `keptNote` says where.
 */
export async function startBench(
  name: string,
  opts: { objects: number; keep: boolean },
  keptNote: (run: { work: string; cluster: Cluster }) => string = () => "",
): Promise<BenchRun> {
  if (!existsSync("/usr/bin/time")) throw new Error("GNU time is missing: apt-get install time");
  const work = mkdtempSync(join(tmpdir(), `arca-bench-${name}-`));
  let cluster: Cluster | undefined;
  process.on("exit", () => {
    if (opts.keep && cluster)
      log(
        `kept the cluster: KUBECONFIG=${cluster.kubeconfigPath}, pids ${cluster.pids}${keptNote({ work, cluster })}`,
      );
    const child = runningChild();
    const pids = [...(child ? [-child] : []), ...(opts.keep ? [] : (cluster?.pids ?? []))];
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (!opts.keep) rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

  log(`starting a cluster in ${join(work, "cluster")}`);
  // Imported here, so that the baselines' child processes do not load the test environment.
  const { startCluster } = await import("../test/env/cluster.js");
  const started = await startCluster({ name: "arca-bench", dir: join(work, "cluster"), detached: opts.keep });
  cluster = started;
  const client = new KubeClient(started.kubeConfig());
  await populate(client, opts.objects);
  await settle(client, Math.ceil(opts.objects / 50));
  return {
    work,
    cluster: started,
    client,
    env: { KUBECONFIG: started.kubeconfigPath, ARCA_PASSWORD: PASSWORD },
    async done() {
      client.close();
      if (!opts.keep) await started.stop().then(() => (cluster = undefined));
    },
  };
}
