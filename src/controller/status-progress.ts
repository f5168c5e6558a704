// The engines' progress, written into a CR's status at most every few seconds: often enough
// for `kubectl get -w` and `--wait`, rarely enough not to load the API server.
import type { Progress, ProgressCounts } from "../common/progress.js";

export function statusProgress(
  write: (counts: ProgressCounts) => Promise<unknown>,
  everyMs = 2000,
): Progress & { settled(): Promise<void> } {
  let latest: ProgressCounts | undefined;
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  return {
    update(counts) {
      latest = counts;
      if (Date.now() - lastWrite < everyMs) return;
      lastWrite = Date.now();
      const snapshot = latest;
      // A lost progress write is harmless: the next one or the final status replaces it.
      writing = writing.then(() => write(snapshot)).catch(() => {});
    },
    warning() {},
    settled: () => writing.then(() => {}),
  };
}
