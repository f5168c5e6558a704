// Runs the real arca CLI in a child process, as an operator would.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runArca(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  /** Sends SIGINT, as Ctrl-C does, once this is true (polled every few milliseconds). */
  interruptWhen?: () => boolean,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    const poll =
      interruptWhen &&
      setInterval(() => {
        if (!interruptWhen()) return;
        clearInterval(poll);
        child.kill("SIGINT");
      }, 5);
    child.once("exit", (code) => {
      if (poll) clearInterval(poll);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
