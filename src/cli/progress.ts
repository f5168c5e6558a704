// Draws progress: a redrawn line on a TTY (at most five times a second), JSON lines with
// --json, nothing otherwise. Warnings always go to stderr.
import type { Progress, ProgressCounts } from "../common/progress.js";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function cliProgress(json: boolean, unit = "files"): Progress & { done(): void } {
  const started = Date.now();
  const tty = process.stderr.isTTY === true && !json;
  let last = 0;
  let drawn = false;
  return {
    update(c: ProgressCounts) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const elapsed = (now - started) / 1000;
      const rate = elapsed > 0 ? c.bytes / elapsed : 0;
      if (json) {
        process.stdout.write(JSON.stringify({ type: "progress", ...c, seconds: elapsed }) + "\n");
      } else if (tty) {
        const eta =
          c.totalBytes && rate > 0
            ? `, ETA ${Math.max(0, Math.round((c.totalBytes - c.bytes) / rate))}s`
            : "";
        const steps = c.stepsTotal ? `${c.stepsDone ?? 0}/${c.stepsTotal} types, ` : "";
        const warnings = c.warnings ? `, ${c.warnings} warnings` : "";
        process.stderr.write(
          `\r\x1b[K${steps}${c.files} ${unit}, ${formatBytes(c.bytes)}, ${formatBytes(rate)}/s${eta}${warnings}`,
        );
        drawn = true;
      }
    },
    warning(message: string) {
      if (drawn) process.stderr.write("\r\x1b[K");
      if (json) process.stdout.write(JSON.stringify({ type: "warning", message }) + "\n");
      process.stderr.write(`warning: ${message}\n`);
    },
    done() {
      if (drawn) process.stderr.write("\r\x1b[K");
    },
  };
}
