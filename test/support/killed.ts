// A process killed with SIGKILL at a chosen point of its work, as a crash or an OOM kill would
// stop it: no chance to clean up what it has written so far.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Runs `command`, and kills it with SIGKILL as soon as `reached()` is true (polled every few
 * milliseconds). Fails if the process ends before that. Resolves with its PID once it is gone.
 */
export async function killWhen(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  reached: () => boolean,
  timeoutMs = 60_000,
): Promise<number> {
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + timeoutMs;
  try {
    while (!reached()) {
      if (exited) throw new Error(`${command} ended before the point to kill it at:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`${command} did not reach the point to kill it at`);
      await sleep(3);
    }
  } finally {
    child.kill("SIGKILL");
    await gone;
  }
  return child.pid as number;
}
