// `npm run env:up` / `npm run env:down`: one cluster and one S3 server for people to use,
// described by .arca-env/env.sh. Also used by scripts/test.mjs with --dir.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { kubernetesBinaries } from "./binaries.js";
import { environmentDown, environmentUp, envScript, readState } from "./environment.js";
import { hostState } from "./host.js";
import { isAlive } from "./proc.js";

function parseArgs(argv: string[]): { command: string | undefined; dir: string } {
  const [command, ...rest] = argv;
  let dir = ".arca-env";
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--dir" && rest[i + 1]) dir = rest[++i] as string;
    else throw new Error(`unknown argument ${rest[i]}; usage: cli.ts up|down [--dir DIR]`);
  }
  if (!["up", "down", "host-state"].includes(command ?? ""))
    throw new Error("usage: cli.ts up|down|host-state [--dir DIR]");
  return { command, dir: resolve(dir) };
}

async function main(): Promise<void> {
  const { command, dir } = parseArgs(process.argv.slice(2));
  const stateFile = join(dir, "env.json");
  if (command === "host-state") {
    // What a node changes on the host; the test runner compares it before and after a run.
    process.stdout.write(JSON.stringify(hostState()) + "\n");
    return;
  }
  if (command === "up") {
    if (existsSync(stateFile)) {
      const state = readState(stateFile);
      if ([...state.cluster.pids, state.s3.pid].some(isAlive)) {
        throw new Error(
          `an environment is already running from ${stateFile}; run \`npm run env:down\` first`,
        );
      }
      rmSync(dir, { recursive: true, force: true });
    }
    const state = await environmentUp(dir);
    // Already built by environmentUp: this only resolves the cached path of kubectl.
    const { binDir } = await kubernetesBinaries();
    writeFileSync(join(dir, "env.sh"), envScript(state, stateFile, binDir));
    process.stdout.write(
      `cluster ${state.cluster.name} (Kubernetes ${state.cluster.version}) at ${state.cluster.server}\n` +
        `S3 (MinIO) at ${state.s3.endpoint}, bucket ${state.bucket}\n` +
        `use it with: source ${join(dir, "env.sh")}\n`,
    );
  } else {
    if (!existsSync(stateFile)) {
      process.stdout.write(`no environment at ${dir}\n`);
      return;
    }
    const stopped = await environmentDown(stateFile);
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`stopped ${stopped} process(es) and removed ${dir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`env: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
