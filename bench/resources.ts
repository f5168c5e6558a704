// npm run bench:resources — resource backup speed and memory against the raw LISTs it makes.
// Starts a private cluster (test/env), fills it with --objects N (default 20,000; --large:
// 100,000) ConfigMaps, Secrets, Deployments, Services and custom resources over 100
// namespaces, then for --rounds R (default 3), interleaved: (a) `arca backup create --local`
// into a file:// repository, a child process under GNU time for wall time and peak RSS, and
// (b) the baseline: a child process making the same paginated LISTs (limit 500, 8 types at a
// time, results discarded) over the same transport. Prints each round, the medians and the
// targets (≥ 0.8× the baseline's items/s; peak RSS < 256 MiB at 100k objects); asserts nothing.
// `npm run bench:resources` compiles first and runs Arca as installed (dist/, plain node), as
// users run it; run from source (tsx), tsx's loader in the main thread and in each blob worker
// adds to time and RSS. --keep leaves the cluster running and prints its kubeconfig.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1CustomResourceDefinition } from "@kubernetes/client-node";
import { neverBackedUp } from "../src/backup/filters.js";
import { Slots } from "../src/common/slots.js";
import { KubeClient, parseJson } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { discoverResources } from "../src/kube/discovery.js";
import { groupResource, resourcePath, type ApiResource } from "../src/kube/resources.js";
import { apiError } from "../src/kube/transport.js";
import { forConfigMap, forCrd, forDeployment, forNamespace, forSecret } from "../test/builders/index.js";
import type { Cluster } from "../test/env/cluster.js";

// Compiled, this file is dist/bench/resources.js: the project is two levels up, and the CLI
// and this file run from dist/ without tsx.
const compiled = import.meta.url.endsWith(".js");
const root = new URL(compiled ? "../.." : "..", import.meta.url).pathname;
const runner = compiled ? [] : ["--import", "tsx"];
const entry = (path: string) => (compiled ? `dist/${path.replace(/\.ts$/, ".js")}` : path);
const PASSWORD = "benchmark password";
const NAMESPACES = 100;
const GROUP = "bench.arca.test";
type Res = Pick<ApiResource, "group" | "version" | "resource">;
const core = (resource: string): Res => ({ group: "", version: "v1", resource });
const DEPLOYMENTS: Res = { group: "apps", version: "v1", resource: "deployments" };
const WIDGETS: Res = { group: GROUP, version: "v1", resource: "widgets" };
const CRDS: Res = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" };

const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const lastJson = <T>(stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as T;

function parseArgs(argv: string[]) {
  const opts = { objects: 20_000, rounds: 3, keep: false, baseline: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split("=", 2);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === "--objects") opts.objects = value();
    else if (flag === "--rounds") opts.rounds = value();
    else if (flag === "--large") opts.objects = 100_000;
    else if (flag === "--keep") opts.keep = true;
    else if (flag === "--baseline") opts.baseline = true;
    else throw new Error(`unknown argument ${argv[i]}; usage: [--objects N | --large] [--rounds N] [--keep]`);
  }
  if (!(opts.objects > 0 && opts.rounds > 0)) throw new Error("--objects and --rounds take positive numbers");
  return opts;
}

// --- the objects ------------------------------------------------------------------------------

/** Deterministic config-file-like text of `bytes` characters. */
function text(seed: number, bytes: number): string {
  let s = (seed * 2654435761) >>> 0 || 1;
  const parts: string[] = [];
  for (let n = 0; n < bytes; n += (parts.at(-1) as string).length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    parts.push(`option.${(s >>> 20) % 97}.${n} = ${s.toString(36)}-${(s >>> 7).toString(16)}\n`);
  }
  return parts.join("").slice(0, bytes);
}

const nsName = (i: number) => `bench-${String(i).padStart(3, "0")}`;

// Headless and without a selector: the test cluster's service range has 254 addresses, and
// the endpoints controllers (20 writes/s each) get nothing to do.
const SERVICE_SPEC = { clusterIP: "None", ports: [{ name: "http", port: 80, targetPort: 8080 }] };

/** Object i: 40% ConfigMaps, 24% Secrets, 26% Widgets, 8% Services, 2% Deployments; 1-2 KiB each. */
function objectFor(i: number): [Res, string, object] {
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

async function post(client: KubeClient, path: string, body: object | string): Promise<void> {
  const what = `creating ${path}`;
  const json = typeof body === "string" ? body : JSON.stringify(body);
  const res = await client.request(what, { method: "POST", path, body: json });
  // 409: a retried POST whose first attempt got through.
  if (res.status !== 201 && res.status !== 200 && res.status !== 409) throw apiError(what, res);
}

/** Runs task(0..n-1), `concurrency` at a time. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

async function populate(client: KubeClient, objects: number): Promise<void> {
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

// --- the baseline -----------------------------------------------------------------------------

type Listed = { metadata?: { generation?: number }; status?: { observedGeneration?: number } };

/** Every type a backup of everything lists, paginated, cluster-wide; returns the item count. */
async function listAll(
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
async function settle(client: KubeClient, deployments: number): Promise<void> {
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

async function baselineChild(): Promise<void> {
  const client = new KubeClient(await loadKubeConfig({}));
  const start = process.hrtime.bigint();
  const items = await listAll(client);
  process.stdout.write(JSON.stringify({ items, listSeconds: seconds(start) }) + "\n");
}

// --- the run ----------------------------------------------------------------------------------

type Measured = { seconds: number; rssMiB: number; stdout: string };
let running: number | undefined;

/** Runs `node ARGS` (with tsx from source) under GNU time: wall time, peak RSS and stdout. */
function measure(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<Measured>((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn("/usr/bin/time", ["-f", "%M", process.execPath, ...runner, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      detached: true, // its own process group, so that an interrupted bench can end it by PID
      stdio: ["ignore", "pipe", "pipe"],
    });
    running = child.pid;
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (c: Buffer) => void (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => void (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      running = undefined;
      const rssMiB = Number(stderr.trim().split("\n").at(-1)) / 1024;
      // 3: arca's PartiallyFailed, still a complete run
      if (code === 0 || code === 3) resolve({ seconds: seconds(start), rssMiB, stdout });
      else reject(new Error(`${args.slice(0, 3).join(" ")} exited with ${code}:\n${stderr.slice(-3000)}`));
    });
  });
}

type Round = { items: number; arca: Measured; base: Measured & { items: number; listSeconds: number } };

function report(objects: number, rounds: Round[]): void {
  const rate = (r: Round) => r.items / r.arca.seconds;
  const baseRate = (r: Round) => r.base.items / r.base.seconds;
  const ratioOf = (r: Round) => rate(r) / baseRate(r);
  const rows: Array<Record<string, string | number>> = rounds.map((r, i) => ({
    round: i === 0 ? "1 (first into repo)" : String(i + 1),
    "items backed up": r.items,
    "arca s": r.arca.seconds.toFixed(2),
    "arca items/s": rate(r).toFixed(0),
    "baseline items": r.base.items,
    "baseline s": `${r.base.seconds.toFixed(2)} (lists ${r.base.listSeconds.toFixed(2)})`,
    "baseline items/s": baseRate(r).toFixed(0),
    "arca/baseline": ratioOf(r).toFixed(2),
    "arca RSS MiB": r.arca.rssMiB.toFixed(0),
    "baseline RSS MiB": r.base.rssMiB.toFixed(0),
  }));
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const [a, b, ratio, rss] = [med(rate), med(baseRate), med(ratioOf), med((r) => r.arca.rssMiB)];
  rows.push({
    round: "median",
    "arca items/s": a.toFixed(0),
    "baseline items/s": b.toFixed(0),
    "arca/baseline": ratio.toFixed(2),
    "arca RSS MiB": rss.toFixed(0),
  });
  console.log(
    `\nresource backup vs raw paginated LISTs: ${objects} objects created, ${rounds.length} rounds`,
  );
  console.table(rows);
  const met = (ok: boolean) => (ok ? "met" : "MISSED");
  const rssTarget = objects >= 100_000 ? met(rss < 256) : "not judged below 100,000 objects";
  console.log(`targets: arca/baseline ≥ 0.8; Arca's peak RSS < 256 MiB at 100,000 objects`);
  console.log(
    `summary: ${objects} objects, medians: arca ${a.toFixed(0)} items/s, baseline ${b.toFixed(0)} items/s, ` +
      `ratio ${ratio.toFixed(2)} (${met(ratio >= 0.8)}), peak RSS ${rss.toFixed(0)} MiB (${rssTarget})`,
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.baseline) return baselineChild();
  if (!existsSync("/usr/bin/time")) throw new Error("GNU time is missing: apt-get install time");
  const work = mkdtempSync(join(tmpdir(), "arca-bench-resources-"));
  const repo = join(work, "repo");
  mkdirSync(repo);
  let cluster: Cluster | undefined;
  process.on("exit", () => {
    if (opts.keep && cluster)
      log(`kept the cluster: KUBECONFIG=${cluster.kubeconfigPath}, pids ${cluster.pids}`);
    const pids = [...(running ? [-running] : []), ...(opts.keep ? [] : (cluster?.pids ?? []))];
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
  // Imported here, so that the baseline's child process does not load the test environment.
  const { startCluster } = await import("../test/env/cluster.js");
  cluster = await startCluster({ name: "arca-bench", dir: join(work, "cluster"), detached: opts.keep });
  try {
    const client = new KubeClient(cluster.kubeConfig());
    await populate(client, opts.objects);
    await settle(client, Math.ceil(opts.objects / 50));
    const env = { KUBECONFIG: cluster.kubeconfigPath, ARCA_PASSWORD: PASSWORD };
    const arca = (...args: string[]) => measure([entry("src/cli/main.ts"), ...args], env);
    const baseline = async () => {
      const m = await measure([entry("bench/resources.ts"), "--baseline"], env);
      return { ...m, ...lastJson<{ items: number; listSeconds: number }>(m.stdout) };
    };
    await arca("repo", "init", "-r", `file://${repo}`);
    const version = await arca("version"); // also warms tsx's cache, as the warm-up baseline does
    log(`arca version: ${version.seconds.toFixed(2)} s, peak RSS ${version.rssMiB.toFixed(0)} MiB`);
    log(`warm-up baseline: ${(await baseline()).items} items`);
    const rounds: Round[] = [];
    for (let i = 1; i <= opts.rounds; i++) {
      const name = `bench-${Date.now().toString(36)}-${i}`;
      const backup = () =>
        arca("backup", "create", name, "--local", "--json", "--location", `file://${repo}`);
      // Alternate who goes first, so that neither always meets the other's warm caches.
      const first = i % 2 ? await backup() : undefined;
      const base = await baseline();
      const a = first ?? (await backup());
      const summary = lastJson<{ type?: string; itemsBackedUp?: number; phase?: string }>(a.stdout);
      if (summary.type !== "summary") throw new Error(`arca printed no summary:\n${a.stdout.slice(-2000)}`);
      rounds.push({ items: summary.itemsBackedUp ?? 0, arca: a, base });
      const took = `${a.seconds.toFixed(2)} s; baseline ${base.items} in ${base.seconds.toFixed(2)} s`;
      log(`round ${i}: ${summary.phase}, ${summary.itemsBackedUp} items in ${took}`);
    }
    report(opts.objects, rounds);
  } finally {
    if (!opts.keep) await cluster.stop().then(() => (cluster = undefined));
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
