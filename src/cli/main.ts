#!/usr/bin/env -S node --max-semi-space-size=8
// The arca command (also installed as kubectl-arca): parse, dispatch, print. Thin by rule:
// the work happens in the engines and the API layer. The #! line caps V8's young generation
// at 2 × 8 MiB (default 2 × 16): resource backups of 100,000 objects peaked 20–35 MiB lower
// for the same CPU. The Dockerfile's entrypoint passes the same flag.
import { basename } from "node:path";
import { Command, CommanderError } from "commander";
import { describeError } from "../common/errors.js";
import { tuneAllocatorWhenLoaded } from "../common/native.js";
import { addClusterFlags } from "./cluster-flags.js";
import { registerBackup } from "./commands/backup.js";
import { registerFs } from "./commands/fs.js";
import { registerInstall } from "./commands/install.js";
import { registerLocation } from "./commands/location.js";
import { registerNodeAgent } from "./commands/node-agent.js";
import { registerPolicy } from "./commands/policy.js";
import { registerRepo } from "./commands/repo.js";
import { registerRestore } from "./commands/restore.js";
import { registerSchedule } from "./commands/schedule.js";
import { registerServer } from "./commands/server.js";
import { registerVersion } from "./commands/version.js";

export function buildProgram(): Command {
  const invokedAs = basename(process.argv[1] ?? "arca").replace(/\.(js|ts)$/, "");
  const program = new Command(invokedAs === "kubectl-arca" ? "kubectl arca" : "arca")
    .description("Back up and restore Kubernetes applications into restic repositories on object storage")
    .showHelpAfterError()
    .exitOverride();
  addClusterFlags(program);
  registerVersion(program);
  registerInstall(program);
  registerPolicy(program);
  registerLocation(program);
  registerRepo(program);
  registerFs(program);
  registerBackup(program);
  registerRestore(program);
  registerSchedule(program);
  registerServer(program);
  registerNodeAgent(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // Commands that report a failure without throwing (location check) set exitCode.
    return Number(process.exitCode ?? 0);
  } catch (err) {
    // Commander has already printed its own usage errors and help.
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`error: ${describeError(err)}\n`);
    return 1;
  }
}

// Commands that touch no repository data never load the addon, so they need no allocator settings.
tuneAllocatorWhenLoaded();
process.exitCode = await main(process.argv);
