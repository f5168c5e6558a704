// npm run bench:restore — restore speed and memory against raw POSTs of the same objects.
// Starts a private cluster (test/env), fills it with --objects N (default 20,000) ConfigMaps,
// Secrets, Deployments, Services and custom resources over 100 namespaces (bench/common.ts, as
// bench:resources does), backs everything up once with `arca backup create base --local` into
// a file:// repository and downloads that backup's objects (`arca backup download`, a .tar.gz)
// for the baseline. The baseline is a child process that reads those files, drops what Arca
// drops (server-set metadata, owner references, status; the items Arca never restores or
// leaves to their controllers) and POSTs them over the same transport (KubeClient): namespaces
// and CRDs first, then the rest, in Arca's tier order but without waiting between tiers; a 409
// counts as done. Its concurrency is the fastest of 16, 32 and 64 in warm-up runs. Then for
// --rounds R (default 3), interleaved, each on a cluster whose 100 bench namespaces were just
// deleted (and gone): (a) `arca restore create rI --from-backup base --local -o json`, a child
// process under GNU time for wall time and peak RSS, and (b) the baseline, timed the same way.
// Items are the objects each created (Arca's status.counts.created; the baseline's 201s), and
// the two sets are compared per resource. Prints each round, the medians and the target
// (≥ 0.8× the baseline's items/s); asserts nothing. `npm run bench:restore` compiles first and
// runs Arca as installed (dist/, node with the flags of its #! line). --keep leaves the
// cluster running (with the objects restored by the last run) and prints its kubeconfig and
// the repository's location.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeClient } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { discoverResources } from "../src/kube/discovery.js";
import { asKubeObject, type KubeObject } from "../src/kube/object.js";
import { groupResource, resourcePath, type ApiResource } from "../src/kube/resources.js";
import { apiError } from "../src/kube/transport.js";
import { tierOf } from "../src/restore/order.js";
import { neverRestored } from "../src/restore/skip.js";
import { SERVER_METADATA } from "../src/restore/transform.js";
import {
  entry,
  log,
  measure,
  median,
  NAMESPACES,
  nsName,
  pool,
  seconds,
  startBench,
  type Measured,
} from "./common.js";

/** The baseline's candidate concurrencies; KubeClient's agent keeps at most 64 sockets. */
const CONCURRENCIES = [16, 32, 64];
const lastJson = <T>(stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as T;

function parseArgs(argv: string[]) {
  const opts = { objects: 20_000, rounds: 3, keep: false, baseline: "", concurrency: 32 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split("=", 2);
    const value = () => inline ?? (argv[++i] as string);
    if (flag === "--objects") opts.objects = Number(value());
    else if (flag === "--rounds") opts.rounds = Number(value());
    else if (flag === "--keep") opts.keep = true;
    else if (flag === "--baseline")
      opts.baseline = value(); // the extracted backup
    else if (flag === "--concurrency") opts.concurrency = Number(value());
    else throw new Error(`unknown argument ${argv[i]}; usage: [--objects N] [--rounds N] [--keep]`);
  }
  if (!(opts.objects > 0 && opts.rounds > 0 && opts.concurrency > 0))
    throw new Error("--objects, --rounds and --concurrency take positive numbers");
  return opts;
}

// --- the baseline -----------------------------------------------------------------------------

type Counts = Record<string, number>;
type BaselineResult = {
  concurrency: number;
  created: number;
  existed: number;
  skipped: number;
  failed: number;
  byResource: Counts;
  readSeconds: number;
  postSeconds: number;
  errors: string[];
};

/** What the API server sets, and what only made sense in the source cluster. */
const SERVER_SET = [...SERVER_METADATA, "ownerReferences"];

const groupOfApiVersion = (v: string) => (v.includes("/") ? v.slice(0, v.indexOf("/")) : "");
const ownerKey = (group: string, kind: string, ns: string | undefined, name: string) =>
  `${group}/${kind}/${ns ?? ""}/${name}`;

type Stored = { resource: string; object: KubeObject };

/** The objects of an extracted backup: resources/<gr>/{namespaces/<ns>,cluster}/<name>.json. */
function readBackup(dir: string): Stored[] {
  const out: Stored[] = [];
  const read = (resource: string, path: string) => {
    for (const file of readdirSync(path))
      if (file.endsWith(".json"))
        out.push({
          resource,
          object: asKubeObject(JSON.parse(readFileSync(join(path, file), "utf8")), file),
        });
  };
  const resources = join(dir, "resources");
  for (const resource of readdirSync(resources)) {
    const base = join(resources, resource);
    // Other directories hold other versions (--all-versions), which a restore leaves alone.
    if (existsSync(join(base, "cluster"))) read(resource, join(base, "cluster"));
    if (existsSync(join(base, "namespaces")))
      for (const ns of readdirSync(join(base, "namespaces"))) read(resource, join(base, "namespaces", ns));
  }
  return out;
}

/** The object as a new one for the API server: no server-set metadata, no status. */
function stripped(resource: string, o: KubeObject): string {
  const { status: _status, ...rest } = o;
  const metadata = { ...o.metadata };
  for (const field of SERVER_SET) delete metadata[field];
  const spec = rest.spec as { clusterIP?: string; clusterIPs?: string[] } | undefined;
  // A Service's address belongs to the old cluster (headless ones have none).
  if (resource === "services" && spec && spec.clusterIP !== "None") {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  return JSON.stringify({ ...rest, metadata });
}

async function baselineChild(dir: string, concurrency: number): Promise<void> {
  const start = process.hrtime.bigint();
  const client = new KubeClient(await loadKubeConfig({}));
  const served = new Map<string, ApiResource[]>();
  for (const r of (await discoverResources(client)).resources) {
    const list = served.get(groupResource(r)) ?? [];
    if (r.preferred) list.unshift(r);
    else list.push(r);
    served.set(groupResource(r), list);
  }
  const stored = readBackup(dir);
  const inBackup = new Set(
    stored.map(({ object: o }) =>
      ownerKey(groupOfApiVersion(o.apiVersion), o.kind, o.metadata.namespace, o.metadata.name),
    ),
  );
  const result: BaselineResult = {
    concurrency,
    created: 0,
    existed: 0,
    skipped: 0,
    failed: 0,
    byResource: {},
    readSeconds: 0,
    postSeconds: 0,
    errors: [],
  };
  type Post = { resource: string; path: string; body: string; tier: number };
  const posts: Post[] = [];
  for (const { resource, object: o } of stored) {
    const { namespace } = o.metadata;
    const owned = o.metadata.ownerReferences?.some(
      (ref) =>
        ref.controller &&
        inBackup.has(ownerKey(groupOfApiVersion(ref.apiVersion), ref.kind, namespace, ref.name)),
    );
    const version = o.apiVersion.slice(o.apiVersion.indexOf("/") + 1);
    const r = served.get(resource)?.find((s) => s.version === version);
    if (neverRestored(resource, o) || owned || !r) {
      result.skipped++;
      continue;
    }
    const path = `${resourcePath(r, namespace)}?fieldManager=arca-bench`;
    posts.push({ resource, path, body: stripped(resource, o), tier: tierOf(resource) });
  }
  posts.sort((a, b) => a.tier - b.tier);
  result.readSeconds = seconds(start);

  const create = async ({ resource, path, body }: Post) => {
    const what = `creating ${path}`;
    const res = await client.request(what, { method: "POST", path, body });
    if (res.status === 200 || res.status === 201 || res.status === 202) {
      result.created++;
      result.byResource[resource] = (result.byResource[resource] ?? 0) + 1;
    } else if (res.status === 409) result.existed++;
    else {
      result.failed++;
      if (result.errors.length < 5) result.errors.push(apiError(what, res).message);
    }
  };
  // What everything else lives in first (CRDs, namespaces: tiers 0 and 1), then the rest.
  const first = posts.filter((p) => p.tier <= 1);
  const rest = posts.filter((p) => p.tier > 1);
  const posting = process.hrtime.bigint();
  await pool(first.length, concurrency, (i) => create(first[i] as Post));
  await pool(rest.length, concurrency, (i) => create(rest[i] as Post));
  result.postSeconds = seconds(posting);
  client.close();
  process.stdout.write(JSON.stringify(result) + "\n");
}

// --- the cluster between runs -----------------------------------------------------------------

/** Deletes the bench namespaces and waits until every one of them answers 404. */
async function clearNamespaces(client: KubeClient): Promise<number> {
  const start = process.hrtime.bigint();
  const path = (i: number) =>
    resourcePath({ group: "", version: "v1", resource: "namespaces" }, "", nsName(i));
  await pool(NAMESPACES, 32, async (i) => {
    const res = await client.request(`deleting ${nsName(i)}`, { method: "DELETE", path: path(i) });
    if (res.status !== 200 && res.status !== 202 && res.status !== 404)
      throw apiError(`deleting ${nsName(i)}`, res);
  });
  let left = Array.from({ length: NAMESPACES }, (_, i) => i);
  while (left.length > 0) {
    if (seconds(start) > 600) throw new Error(`${left.length} namespaces still there after 10 minutes`);
    await sleep(500);
    const still: number[] = [];
    await pool(left.length, 32, async (k) => {
      const i = left[k] as number;
      const res = await client.request(`reading ${nsName(i)}`, { path: path(i) });
      if (res.status !== 404) still.push(i);
    });
    left = still;
  }
  // The namespace controller has finished; give the garbage collector a moment too.
  await sleep(1000);
  return seconds(start);
}

// --- the run ----------------------------------------------------------------------------------

type RestoreOutput = {
  record: { status: { phase: string; counts: Counts } };
  results: { items: Array<{ resource: string; outcome: string }>; warnings: string[] };
};
type ArcaRun = Measured & { created: number; counts: Counts; byResource: Counts; phase: string };
type BaseRun = Measured & BaselineResult;
type Round = { arca: ArcaRun; base: BaseRun };

/** Where the two runs created different numbers of objects of a resource, if anywhere. */
function differences(a: Counts, b: Counts): string {
  const all = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return all
    .filter((r) => (a[r] ?? 0) !== (b[r] ?? 0))
    .map((r) => `${r}: arca ${a[r] ?? 0}, baseline ${b[r] ?? 0}`)
    .join("; ");
}

function report(objects: number, rounds: Round[]): void {
  const rate = (r: Round) => r.arca.created / r.arca.seconds;
  const baseRate = (r: Round) => r.base.created / r.base.seconds;
  const ratioOf = (r: Round) => rate(r) / baseRate(r);
  const rows: Array<Record<string, string | number>> = rounds.map((r, i) => ({
    round: String(i + 1),
    "arca created": r.arca.created,
    "arca s": r.arca.seconds.toFixed(2),
    "arca items/s": rate(r).toFixed(0),
    "baseline created": r.base.created,
    "baseline s": `${r.base.seconds.toFixed(2)} (posts ${r.base.postSeconds.toFixed(2)})`,
    "baseline items/s": baseRate(r).toFixed(0),
    "arca/baseline": ratioOf(r).toFixed(2),
    "arca CPU s": r.arca.cpuSeconds.toFixed(1),
    "baseline CPU s": r.base.cpuSeconds.toFixed(1),
    "arca RSS MiB": r.arca.rssMiB.toFixed(0),
    "baseline RSS MiB": r.base.rssMiB.toFixed(0),
  }));
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const [a, b, ratio, rss] = [med(rate), med(baseRate), med(ratioOf), med((r) => r.arca.rssMiB)];
  const concurrency = rounds[0]?.base.concurrency;
  rows.push({
    round: "median",
    "arca items/s": a.toFixed(0),
    "baseline items/s": b.toFixed(0),
    "arca/baseline": ratio.toFixed(2),
    "arca RSS MiB": rss.toFixed(0),
  });
  console.log(
    `\nrestore vs raw POSTs (baseline concurrency ${concurrency}): ${objects} objects, ${rounds.length} rounds`,
  );
  console.table(rows);
  console.log(`target: arca/baseline ≥ 0.8`);
  console.log(
    `summary: ${objects} objects, medians: arca ${a.toFixed(0)} items/s, baseline ${b.toFixed(0)} items/s ` +
      `(concurrency ${concurrency}), ratio ${ratio.toFixed(2)} (${ratio >= 0.8 ? "met" : "MISSED"}), ` +
      `arca peak RSS ${rss.toFixed(0)} MiB`,
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.baseline) return baselineChild(opts.baseline, opts.concurrency);
  const started = process.hrtime.bigint();
  const run = await startBench("restore", opts, ({ work }) => `; repository file://${join(work, "repo")}`);
  const { work, client, env } = run;
  const [repo, objects] = [join(work, "repo"), join(work, "objects")];
  mkdirSync(repo);
  mkdirSync(objects);
  try {
    const location = `file://${repo}`;
    const arca = (...args: string[]) => measure([entry("src/cli/main.ts"), ...args], env);
    await arca("repo", "init", "-r", location);
    const backup = await arca("backup", "create", "base", "--local", "--json", "--location", location);
    const summary = lastJson<{ itemsBackedUp?: number; phase?: string }>(backup.stdout);
    log(`backup base: ${summary.phase}, ${summary.itemsBackedUp} items in ${backup.seconds.toFixed(1)} s`);
    const tarball = join(work, "base.tar.gz");
    await arca("backup", "download", "base", "--location", location, "--file", tarball);
    execFileSync("tar", ["-xzf", tarball, "-C", objects]);

    const baseline = async (concurrency: number): Promise<BaseRun> => {
      const cleared = await clearNamespaces(client);
      const args = ["--baseline", objects, "--concurrency", String(concurrency)];
      const m = await measure([entry("bench/restore.ts"), ...args], env);
      const run = { ...m, ...lastJson<BaselineResult>(m.stdout) };
      log(
        `baseline at ${concurrency}: created ${run.created} (${run.existed} existed, ${run.skipped} skipped, ` +
          `${run.failed} failed) in ${run.seconds.toFixed(2)} s (read ${run.readSeconds.toFixed(2)}, ` +
          `posts ${run.postSeconds.toFixed(2)}), ${(run.created / run.seconds).toFixed(0)} items/s, ` +
          `CPU ${run.cpuSeconds.toFixed(1)} s, RSS ${run.rssMiB.toFixed(0)} MiB; ` +
          `namespaces cleared in ${cleared.toFixed(1)} s`,
      );
      for (const e of run.errors) log(`  baseline error: ${e}`);
      return run;
    };
    const restore = async (name: string): Promise<ArcaRun> => {
      const cleared = await clearNamespaces(client);
      const m = await arca(
        "restore",
        "create",
        name,
        "--from-backup",
        "base",
        "--local",
        "-o",
        "json",
        "--location",
        location,
      );
      const out = JSON.parse(m.stdout) as RestoreOutput;
      const byResource: Counts = {};
      for (const i of out.results.items)
        if (i.outcome === "created") byResource[i.resource] = (byResource[i.resource] ?? 0) + 1;
      const { counts, phase } = out.record.status;
      log(
        `restore ${name}: ${phase}, ${JSON.stringify(counts)} in ${m.seconds.toFixed(2)} s, ` +
          `${((counts.created ?? 0) / m.seconds).toFixed(0)} items/s, CPU ${m.cpuSeconds.toFixed(1)} s, ` +
          `RSS ${m.rssMiB.toFixed(0)} MiB; ` +
          `namespaces cleared in ${cleared.toFixed(1)} s`,
      );
      return { ...m, created: counts.created ?? 0, counts, byResource, phase };
    };

    // Warm-up: the baseline at each concurrency; the fastest is the one measured.
    const tried: BaseRun[] = [];
    for (const c of CONCURRENCIES) tried.push(await baseline(c));
    const best = tried.reduce((x, y) => (y.created / y.seconds > x.created / x.seconds ? y : x));
    log(`the baseline's best concurrency: ${best.concurrency}`);

    const rounds: Round[] = [];
    for (let i = 1; i <= opts.rounds; i++) {
      // Alternate who goes first, so that neither always follows the other.
      const first = i % 2 ? await restore(`r${i}`) : undefined;
      const base = await baseline(best.concurrency);
      const a = first ?? (await restore(`r${i}`));
      const diff = differences(a.byResource, base.byResource) || "the same per resource";
      log(`round ${i}: created ${a.created} (arca) and ${base.created} (baseline); ${diff}`);
      rounds.push({ arca: a, base });
    }
    report(opts.objects, rounds);
    log(`the whole run took ${(seconds(started) / 60).toFixed(1)} minutes`);
  } finally {
    await run.done();
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
