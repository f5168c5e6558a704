// npm run bench:resources — resource backup speed and memory against the raw LISTs it makes.
// Starts a private cluster (test/env), fills it with --objects N (default 20,000; --large:
// 100,000) ConfigMaps, Secrets, Deployments, Services and custom resources over 100
// namespaces, then for --rounds R (default 3), interleaved: (a) `arca backup create --local`
// into a file:// repository, a child process under GNU time for wall time and peak RSS, and
// (b) the baseline: a child process making the same paginated LISTs (limit 500, 8 types at a
// time, results discarded) over the same transport. Prints each round, the medians and the
// targets (≥ 0.8× the baseline's items/s; peak RSS < 256 MiB at 100k objects); asserts nothing.
// --keep leaves the cluster running and prints its kubeconfig.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1CustomResourceDefinition, V1Service } from "@kubernetes/client-node";
import { neverBackedUp } from "../src/backup/filters.js";
import { Slots } from "../src/common/slots.js";
import { KubeClient, parseJson } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { discoverResources } from "../src/kube/discovery.js";
import { groupResource, resourcePath, type ApiResource } from "../src/kube/resources.js";
import { apiError } from "../src/kube/transport.js";
import { forConfigMap, forCrd, forDeployment, forNamespace, forSecret } from "../test/builders/index.js";
import { startCluster, type Cluster } from "../test/env/cluster.js";

const root = new URL("..", import.meta.url).pathname;
const PASSWORD = "benchmark password";
const NAMESPACES = 100;
const CREATE_CONCURRENCY = 32;
const LIST_CONCURRENCY = 8;
const GROUP = "bench.arca.test";
type Res = Pick<ApiResource, "group" | "version" | "resource">;
const core = (resource: string): Res => ({ group: "", version: "v1", resource });
const DEPLOYMENTS: Res = { group: "apps", version: "v1", resource: "deployments" };
const WIDGETS: Res = { group: GROUP, version: "v1", resource: "widgets" };

const kill = (pid: number) => {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
};
const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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
  for (let n = 0; n < bytes;) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const line = `option.${(s >>> 20) % 97}.${n} = ${s.toString(36)}-${(s >>> 7).toString(16)}\n`;
    parts.push(line);
    n += line.length;
  }
  return parts.join("").slice(0, bytes);
}

const nsName = (i: number) => `bench-${String(i).padStart(3, "0")}`;

/** Object i: 40% ConfigMaps, 24% Secrets, 26% Widgets, 8% headless Services, 2% Deployments. */
function objectFor(i: number): { path: string; body: object } {
  const ns = nsName(i % NAMESPACES);
  const name = `obj-${i}`;
  const labels = { "arca-bench": "1", tier: ["web", "api", "batch"][i % 3] as string };
  const size = 1024 + ((i * 37) % 1024);
  const kind = i % 50;
  if (kind === 0) {
    // replicas 0: the controllers make one ReplicaSet and no Pods (no kubelet would run them).
    const body = forDeployment(ns, name).labels(labels).replicas(0);
    return { path: resourcePath(DEPLOYMENTS, ns), body: body.annotations({ notes: text(i, 600) }).result() };
  }
  if (kind <= 4) {
    // Headless and without a selector: the test cluster's service range has 254 addresses, and
    // no endpoints controller (rate-limited to 20 writes/s) has anything to do.
    const body: V1Service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { namespace: ns, name, labels, annotations: { notes: text(i, size - 400) } },
      spec: { clusterIP: "None", ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    };
    return { path: resourcePath(core("services"), ns), body };
  }
  if (kind <= 24) {
    const body = forConfigMap(ns, name)
      .labels(labels)
      .data({ "app.conf": text(i, size) });
    return { path: resourcePath(core("configmaps"), ns), body: body.result() };
  }
  if (kind <= 36) {
    const body = forSecret(ns, name)
      .labels(labels)
      .stringData({ "credentials.conf": text(i, (size * 3) >> 2) });
    return { path: resourcePath(core("secrets"), ns), body: body.result() };
  }
  const spec = {
    owner: `team-${i % 17}`,
    replicas: i % 5,
    config: text(i, size),
    features: { a: i % 2 === 0 },
  };
  const body = { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { namespace: ns, name, labels }, spec };
  return { path: resourcePath(WIDGETS, ns), body };
}

async function post(client: KubeClient, path: string, body: object): Promise<void> {
  const what = `creating ${path}`;
  const json = JSON.stringify(body);
  const res = await client.request(what, { method: "POST", path, body: json });
  // 409: a retried POST whose first attempt got through.
  if (res.status !== 201 && res.status !== 200 && res.status !== 409) throw apiError(what, res);
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

async function populate(client: KubeClient, objects: number): Promise<void> {
  const start = process.hrtime.bigint();
  await pool(NAMESPACES, CREATE_CONCURRENCY, (i) =>
    post(client, resourcePath(core("namespaces")), forNamespace(nsName(i)).result()),
  );
  const crd: V1CustomResourceDefinition = forCrd(GROUP, "Widget").result();
  // The builder spells the schema flag the typed client's way; the wire name has dashes.
  const crdJson = JSON.stringify(crd).replaceAll(
    "x_kubernetes_preserve_unknown_fields",
    "x-kubernetes-preserve-unknown-fields",
  );
  const crds: Res = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" };
  await post(client, resourcePath(crds), JSON.parse(crdJson) as object);
  for (let ready = false; !ready;) {
    await sleep(200);
    const got = await client.getJson<V1CustomResourceDefinition>(
      "reading the CRD",
      resourcePath(crds, undefined, crd.metadata?.name),
    );
    const established = got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    ready =
      established === true &&
      (await client.request("probing widgets", { path: resourcePath(WIDGETS) })).status === 200;
  }
  let done = 0;
  const timer = setInterval(() => log(`created ${done} of ${objects} objects`), 10_000);
  try {
    await pool(objects, CREATE_CONCURRENCY, async (i) => {
      const { path, body } = objectFor(i);
      await post(client, path, body);
      done++;
    });
  } finally {
    clearInterval(timer);
  }
  const s = seconds(start);
  log(
    `created ${objects} objects in ${NAMESPACES} namespaces in ${s.toFixed(1)} s (${(objects / s).toFixed(0)}/s)`,
  );
}

// --- the baseline -----------------------------------------------------------------------------

interface Listed {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number };
}

/** Every type a backup of everything lists, paginated, cluster-wide; returns the item count. */
async function listAll(
  client: KubeClient,
  visit?: (r: ApiResource, items: Listed[]) => void,
): Promise<number> {
  const { resources } = await discoverResources(client);
  const slots = new Slots(LIST_CONCURRENCY);
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
  await Promise.all(
    resources.filter((r) => r.preferred && !neverBackedUp(r)).map((r) => slots.run(() => listType(r))),
  );
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

// --- child processes --------------------------------------------------------------------------

let running: number | undefined;

/** Runs `node --import tsx ARGS` under GNU time: wall time, peak RSS and stdout. */
function measure(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ seconds: number; rssMiB: number; stdout: string }>((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn("/usr/bin/time", ["-f", "%M", process.execPath, "--import", "tsx", ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      detached: true, // its own process group, so that an interrupted bench can end it by PID
      stdio: ["ignore", "pipe", "pipe"],
    });
    running = child.pid;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      running = undefined;
      const s = seconds(start);
      const kib = Number(stderr.trim().split("\n").at(-1));
      if (code === 0 || code === 3) resolve({ seconds: s, rssMiB: kib / 1024, stdout });
      else reject(new Error(`${args.slice(0, 3).join(" ")} exited with ${code}:\n${stderr.slice(-3000)}`));
    });
  });
}

const lastJson = <T>(stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as T;

async function baselineChild(): Promise<void> {
  const client = new KubeClient(await loadKubeConfig({}));
  const start = process.hrtime.bigint();
  const items = await listAll(client);
  process.stdout.write(JSON.stringify({ items, listSeconds: seconds(start) }) + "\n");
}

// --- the run ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.baseline) return baselineChild();
  if (!existsSync("/usr/bin/time")) throw new Error("GNU time is missing: apt-get install time");
  const work = mkdtempSync(join(tmpdir(), "arca-bench-resources-"));
  const repo = join(work, "repo");
  mkdirSync(repo);
  let cluster: Cluster | undefined;
  process.on("exit", () => {
    if (running) kill(-running);
    if (opts.keep) {
      if (cluster)
        log(`kept the cluster: KUBECONFIG=${cluster.kubeconfigPath} (pids ${cluster.pids.join(" ")})`);
      return;
    }
    for (const pid of cluster?.pids ?? []) kill(pid);
    rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

  log(`starting a cluster in ${join(work, "cluster")}`);
  cluster = await startCluster({ name: "arca-bench", dir: join(work, "cluster"), detached: opts.keep });
  try {
    const client = new KubeClient(cluster.kubeConfig());
    await populate(client, opts.objects);
    await settle(client, Math.ceil(opts.objects / 50));
    const env = { KUBECONFIG: cluster.kubeconfigPath, ARCA_PASSWORD: PASSWORD };
    const arca = (...args: string[]) => measure(["src/cli/main.ts", ...args], env);
    const baseline = () => measure(["bench/resources.ts", "--baseline"], env);
    execFileSync(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "repo", "init", "-r", `file://${repo}`],
      {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    await arca("version"); // warms tsx's transform cache, as the baseline's warm-up run does
    log(`Arca startup (arca version): ${(await arca("version")).seconds.toFixed(2)} s`);
    log(`warm-up baseline: ${lastJson<{ items: number }>((await baseline()).stdout).items} items`);

    const rows: Array<Record<string, string | number>> = [];
    const m = {
      arcaRate: [] as number[],
      baseRate: [] as number[],
      ratio: [] as number[],
      rss: [] as number[],
    };
    for (let round = 1; round <= opts.rounds; round++) {
      const name = `bench-${Date.now().toString(36)}-${round}`;
      const runArca = () =>
        arca("backup", "create", name, "--local", "--json", "--location", `file://${repo}`);
      let a: Awaited<ReturnType<typeof measure>>;
      let b: Awaited<ReturnType<typeof measure>>;
      // Alternate who goes first, so that neither always meets the other's warm caches.
      if (round % 2 === 1) [a, b] = [await runArca(), await baseline()];
      else [b, a] = [await baseline(), await runArca()];
      const summary = lastJson<{ type?: string; itemsBackedUp?: number; phase?: string }>(a.stdout);
      if (summary.type !== "summary") throw new Error(`arca printed no summary:\n${a.stdout.slice(-2000)}`);
      const items = summary.itemsBackedUp ?? 0;
      const base = lastJson<{ items: number; listSeconds: number }>(b.stdout);
      const arcaRate = items / a.seconds;
      const baseRate = base.items / b.seconds;
      m.arcaRate.push(arcaRate);
      m.baseRate.push(baseRate);
      m.ratio.push(arcaRate / baseRate);
      m.rss.push(a.rssMiB);
      rows.push({
        round: round === 1 ? "1 (first into repo)" : String(round),
        "items backed up": items,
        "arca s": a.seconds.toFixed(2),
        "arca items/s": arcaRate.toFixed(0),
        "baseline items": base.items,
        "baseline s": `${b.seconds.toFixed(2)} (lists ${base.listSeconds.toFixed(2)})`,
        "baseline items/s": baseRate.toFixed(0),
        "arca/baseline": (arcaRate / baseRate).toFixed(2),
        "arca RSS MiB": a.rssMiB.toFixed(0),
        "baseline RSS MiB": b.rssMiB.toFixed(0),
      });
      log(
        `round ${round}: ${summary.phase} ${items} items in ${a.seconds.toFixed(2)} s; baseline ${b.seconds.toFixed(2)} s`,
      );
    }
    const [arcaRate, baseRate, ratio, rss] = [
      median(m.arcaRate),
      median(m.baseRate),
      median(m.ratio),
      median(m.rss),
    ];
    rows.push({
      round: "median",
      "arca items/s": arcaRate.toFixed(0),
      "baseline items/s": baseRate.toFixed(0),
      "arca/baseline": ratio.toFixed(2),
      "arca RSS MiB": rss.toFixed(0),
    });
    console.log(
      `\nresource backup vs raw paginated LISTs, ${opts.objects} objects created, ${opts.rounds} rounds`,
    );
    console.table(rows);
    const met = (ok: boolean) => (ok ? "met" : "MISSED");
    const rssTarget = opts.objects >= 100_000 ? met(rss < 256) : `not judged below 100,000 objects`;
    console.log(
      `targets: arca/baseline ≥ 0.8 (${met(ratio >= 0.8)}); peak RSS < 256 MiB at 100,000 objects (${rssTarget})`,
    );
    console.log(
      `summary: ${opts.objects} objects: arca ${arcaRate.toFixed(0)} items/s, baseline ${baseRate.toFixed(0)} items/s, ` +
        `ratio ${ratio.toFixed(2)} (target ≥ 0.8: ${met(ratio >= 0.8)}), peak RSS ${rss.toFixed(0)} MiB ` +
        `(target < 256 MiB at 100k: ${rssTarget})`,
    );
  } finally {
    if (!opts.keep) {
      await cluster.stop();
      cluster = undefined;
    }
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
