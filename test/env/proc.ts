// Child processes of the test environment: started with their output in a log file, and
// stopped by their own PID (never by name), even when the test that started them fails.
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessSpec {
  /** Short name for messages, e.g. "kube-apiserver". */
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Survive the parent (env:up). The caller then owns the PID and must stop it itself. */
  detached?: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code, or the signal name, once the process has ended. */
  readonly exited: Promise<number | string>;
  stop(): Promise<void>;
}

const live = new Set<number>();
let hooksInstalled = false;

// If the test process exits or is interrupted, its servers must not outlive it.
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const pid of live) killQuietly(pid, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      for (const pid of live) killQuietly(pid, "SIGKILL");
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Works on any PID we started. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!killQuietly(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  killQuietly(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(20);
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  const fd = openSync(spec.logFile, "a");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ["ignore", fd, fd],
    detached: spec.detached ?? false,
  });
  closeSync(fd);
  if (child.pid === undefined)
    throw new Error(`starting ${spec.name} (${spec.command}): no PID was assigned`);
  const pid = child.pid;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(pid);
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", (err) => {
      live.delete(pid);
      resolve(`spawn error: ${err.message}`);
    });
  });
  if (spec.detached) {
    child.unref();
  } else {
    installExitHooks();
    live.add(pid);
  }
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    async stop() {
      if (!live.has(pid) && !spec.detached) return;
      await stopPid(pid);
      if (!spec.detached) await exited;
    },
  };
}

/** The last lines of a log, for error messages that show why a server did not come up. */
export function logTail(logFile: string, lines = 25): string {
  if (!existsSync(logFile)) return "(no log)";
  const text = readFileSync(logFile, "utf8").trimEnd().split("\n");
  return text.slice(-lines).join("\n");
}

/**
 * Polls `probe` until it returns true. Fails early, with the log's tail, if the process dies,
 * and on timeout.
 */
export async function waitUntil(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let ended: number | string | undefined;
  void proc.exited.then((code) => (ended = code));
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (ended !== undefined) {
      throw new Error(
        `${proc.name} exited (${ended}) before ${what}; log ${proc.logFile}:\n${logTail(proc.logFile)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what} (${proc.name}, pid ${proc.pid})` +
      (lastError ? `; last probe error: ${lastError}` : "") +
      `; log ${proc.logFile}:\n${logTail(proc.logFile)}`,
  );
}
