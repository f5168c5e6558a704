// A test file run again in a child process to do one task there (the file checks childTask):
// a crash in native code then fails the test that asked, with what the child printed, instead
// of killing the test runner.
import { spawnSync } from "node:child_process";

/** The task the parent asked for, in the child; undefined in the parent. */
export const childTask = process.env.ARCA_TEST_CHILD;

export interface ChildRun<T> {
  status: number | null;
  /** The signal that ended it (SIGSEGV: a crash), or null. */
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The JSON lines it printed, parsed. */
  lines: T[];
}

/** Runs `file` (with tsx and `nodeFlags`) in a child that does `task`. */
export function runChild<T>(file: string, task: string, nodeFlags: string[] = []): ChildRun<T> {
  const run = spawnSync(process.execPath, [...nodeFlags, "--import", "tsx", file], {
    env: { ...process.env, ARCA_TEST_CHILD: task },
    encoding: "utf8",
    timeout: 120_000,
  });
  const lines = run.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as T);
  return { status: run.status, signal: run.signal, stderr: run.stderr, lines };
}
