// npm run bench:resources — resource backup speed and memory against the raw LISTs it makes.
// Starts a private cluster (test/env), fills it with --objects N (default 20,000; --large:
// 100,000) ConfigMaps, Secrets, Deployments, Services and custom resources over 100
// namespaces, then for --rounds R (default 3), interleaved: (a) `arca backup create --local`
// into a file:// repository, a child process under GNU time for wall time and peak RSS, and
// (b) the baseline: a child process making the same paginated LISTs (limit 500, 8 types at a
// time, results discarded) over the same transport. Prints each round, the medians and the
// targets (≥ 0.8× the baseline's items/s, median of the rounds; peak RSS < 256 MiB at 100k
// objects in every round, the first backup into an empty repository too); asserts nothing.
// `npm run bench:resources` compiles first and runs Arca as installed (dist/, node with the
// flags of its #! line), as users run it; run from source (tsx), tsx's loader in the main
// thread and in each blob worker adds to time and RSS. --keep leaves the cluster running and
// prints its kubeconfig.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { KubeClient } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { entry, listAll, log, measure, median, seconds, startBench, type Measured } from "./common.js";

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

// --- the baseline -----------------------------------------------------------------------------

async function baselineChild(): Promise<void> {
  const client = new KubeClient(await loadKubeConfig({}));
  const start = process.hrtime.bigint();
  const items = await listAll(client);
  process.stdout.write(JSON.stringify({ items, listSeconds: seconds(start) }) + "\n");
}

// --- the run ----------------------------------------------------------------------------------

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
  // A target on peak memory holds for every backup, the first into an empty repository too.
  const maxRss = Math.max(...rounds.map((r) => r.arca.rssMiB));
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
  const rssTarget = objects >= 100_000 ? met(maxRss < 256) : "not judged below 100,000 objects";
  console.log(
    `targets: arca/baseline ≥ 0.8 (median of the rounds); Arca's peak RSS < 256 MiB at 100,000 objects (every round)`,
  );
  console.log(
    `summary: ${objects} objects, medians: arca ${a.toFixed(0)} items/s, baseline ${b.toFixed(0)} items/s, ` +
      `ratio ${ratio.toFixed(2)} (${met(ratio >= 0.8)}), peak RSS median ${rss.toFixed(0)} MiB, ` +
      `highest ${maxRss.toFixed(0)} MiB (${rssTarget})`,
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.baseline) return baselineChild();
  const run = await startBench("resources", opts);
  const { work, env } = run;
  const repo = join(work, "repo");
  mkdirSync(repo);
  try {
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
    await run.done();
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
