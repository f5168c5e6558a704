// npm run bench:fs — Arca and restic side by side on the same data, machine and disk:
// first backup, incremental backup after changing 5% of the data, and full restore. Prints
// medians of --runs repetitions (default 3), their ratios, stored bytes and peak RSS.
// A benchmark, never a test: it asserts nothing.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 3);
const work = process.env.ARCA_BENCH_DIR ?? join(tmpdir(), "arca-bench");
const dataDir = join(work, "data");
const PASSWORD = "benchmark password";
const MiB = 1024 * 1024;

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** ~1.1 GiB: a source tree of small text files, big compressible logs, incompressible blobs. */
function generate(): void {
  if (existsSync(join(dataDir, ".complete"))) return;
  log(`generating the data set in ${dataDir}`);
  rmSync(dataDir, { recursive: true, force: true });
  let seed = 1;
  const words = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "import",
    "export",
    "const",
    "function",
    "return",
    "value",
    "cluster",
    "backup",
  ];
  const text = (bytes: number) => {
    const parts: string[] = [];
    let n = 0;
    while (n < bytes) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const line = `${words[seed % words.length]} ${seed.toString(36)} ${words[(seed >> 8) % words.length]} ${n}\n`;
      parts.push(line);
      n += line.length;
    }
    return Buffer.from(parts.join("")).subarray(0, bytes);
  };
  for (let i = 0; i < 20_000; i++) {
    const dir = join(dataDir, "src", `pkg${i % 200}`, `mod${i % 13}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.ts`), text(2048 + ((i * 7919) % 14000)));
  }
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(dataDir, "logs", `app${i}.log`), text(100 * MiB));
  mkdirSync(join(dataDir, "media"), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(dataDir, "media", `blob${i}.bin`), randomBytes(100 * MiB));
  writeFileSync(join(dataDir, ".complete"), "");
}

function totalBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    n += s.isDirectory() ? totalBytes(p) : s.size;
  }
  return n;
}

/** Changes 5% of the bytes: 5% of the small files rewritten, and regions of the big files. */
function change5Percent(round: number): void {
  const src = join(dataDir, "src");
  let i = 0;
  for (const pkg of readdirSync(src)) {
    for (const mod of readdirSync(join(src, pkg))) {
      for (const file of readdirSync(join(src, pkg, mod))) {
        if (i++ % 20 === 0)
          writeFileSync(join(src, pkg, mod, file), `changed ${round} ${file}\n`.repeat(200));
      }
    }
  }
  for (const [dir, name] of [
    ["logs", "app0.log"],
    ["media", "blob0.bin"],
  ] as const) {
    const fd = openSync(join(dataDir, dir, name), "r+");
    writeSync(fd, randomBytes(25 * MiB), 0, 25 * MiB, 30 * MiB);
    closeSync(fd);
  }
}

interface Measure {
  seconds: number;
  rssMiB: number;
}

/** Runs a command under GNU time for wall time and peak RSS. */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Measure {
  const out = spawnSync("/usr/bin/time", ["-f", "%e %M", command, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${out.stderr}\n${out.stdout}`);
  const [seconds, kb] = (out.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  return { seconds: seconds ?? NaN, rssMiB: (kb ?? 0) / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function sha256Speed(): number {
  const data = randomBytes(256 * MiB);
  const start = process.hrtime.bigint();
  const h = createHash("sha256");
  for (let i = 0; i < data.length; i += 64 * 1024) h.update(data.subarray(i, i + 64 * 1024));
  h.digest();
  return 256 / (Number(process.hrtime.bigint() - start) / 1e9);
}

function main(): void {
  if (!existsSync("/usr/bin/time"))
    execFileSync("apt-get", ["install", "-y", "-qq", "time"], { stdio: "inherit" });
  log("building Arca (npm run build)");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
  generate();
  const size = totalBytes(dataDir) / MiB;
  log(`data: ${size.toFixed(0)} MiB`);
  const arca = (args: string[]) =>
    measure(process.execPath, [join(root, "dist/src/cli/main.js"), ...args], { ARCA_PASSWORD: PASSWORD });
  const restic = (args: string[]) => measure("restic", args, { RESTIC_PASSWORD: PASSWORD });

  const results: Record<string, { arca: Measure[]; restic: Measure[] }> = {
    "first backup": { arca: [], restic: [] },
    "incremental backup": { arca: [], restic: [] },
    restore: { arca: [], restic: [] },
  };
  const stored = { arca: 0, restic: 0 };
  for (let run = 0; run < runs; run++) {
    log(`run ${run + 1} of ${runs}`);
    const arcaRepo = join(work, "arca-repo");
    const resticRepo = join(work, "restic-repo");
    for (const d of [arcaRepo, resticRepo, join(work, "out-arca"), join(work, "out-restic")])
      rmSync(d, { recursive: true, force: true });
    mkdirSync(arcaRepo);
    execFileSync(
      process.execPath,
      [join(root, "dist/src/cli/main.js"), "repo", "init", "-r", `file://${arcaRepo}`],
      {
        env: { ...process.env, ARCA_PASSWORD: PASSWORD },
      },
    );
    execFileSync("restic", ["-r", resticRepo, "init", "-q"], {
      env: { ...process.env, RESTIC_PASSWORD: PASSWORD },
    });
    // Alternate who goes first, so the page cache favours neither.
    const order = run % 2 === 0 ? (["arca", "restic"] as const) : (["restic", "arca"] as const);
    const both = (label: string, a: () => Measure, r: () => Measure) => {
      for (const tool of order) results[label]?.[tool].push(tool === "arca" ? a() : r());
    };
    both(
      "first backup",
      () => arca(["fs", "backup", "-r", `file://${arcaRepo}`, dataDir]),
      () => restic(["-r", resticRepo, "backup", "-q", dataDir]),
    );
    change5Percent(run);
    both(
      "incremental backup",
      () => arca(["fs", "backup", "-r", `file://${arcaRepo}`, dataDir]),
      () => restic(["-r", resticRepo, "backup", "-q", dataDir]),
    );
    both(
      "restore",
      () => arca(["fs", "restore", "-r", `file://${arcaRepo}`, "latest", join(work, "out-arca")]),
      () => restic(["-r", resticRepo, "restore", "latest", "--target", join(work, "out-restic")]),
    );
    stored.arca = totalBytes(arcaRepo);
    stored.restic = totalBytes(resticRepo);
  }

  const sha = sha256Speed();
  const rows = Object.entries(results).map(([label, r]) => {
    const a = median(r.arca.map((m) => m.seconds));
    const b = median(r.restic.map((m) => m.seconds));
    return {
      run: label,
      "arca MiB/s": (size / a).toFixed(0),
      "restic MiB/s": (size / b).toFixed(0),
      ratio: (b / a).toFixed(2),
      "arca s": a.toFixed(2),
      "restic s": b.toFixed(2),
      "arca RSS MiB": median(r.arca.map((m) => m.rssMiB)).toFixed(0),
      "restic RSS MiB": median(r.restic.map((m) => m.rssMiB)).toFixed(0),
      "arca / SHA-256": `${((size / a / sha) * 100).toFixed(0)}%`,
    };
  });
  console.log(
    `\nArca vs restic on ${size.toFixed(0)} MiB, file://, medians of ${runs} runs (ratio = restic time / Arca time)`,
  );
  console.table(rows);
  console.log(
    `stored bytes: arca ${(stored.arca / MiB).toFixed(1)} MiB, restic ${(stored.restic / MiB).toFixed(1)} MiB, ` +
      `ratio ${(stored.arca / stored.restic).toFixed(3)}`,
  );
  console.log(`SHA-256 on this machine, one core: ${sha.toFixed(0)} MiB/s`);
}

main();
