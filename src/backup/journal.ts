// The backup's own log: kept for /arca/log.jsonl (so that anyone who can read the backup can
// read how it went) and passed on to the process's logger. Capped, so a backup of a huge
// cluster cannot grow it without bound; the cap is said in the last line.
import type { Logger } from "../common/log.js";

const MAX_LINES = 20_000;

export type JournalLevel = "info" | "warn" | "error";

export class Journal {
  private readonly lines: string[] = [];
  private dropped = 0;

  constructor(private readonly logger?: Logger) {}

  write(level: JournalLevel, msg: string, fields: Record<string, unknown> = {}): void {
    this.logger?.[level](fields, msg);
    if (this.lines.length >= MAX_LINES) {
      this.dropped++;
      return;
    }
    this.lines.push(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.write("info", msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write("warn", msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write("error", msg, fields);
  }

  text(): string {
    const tail = this.dropped
      ? [
          JSON.stringify({
            level: "warn",
            msg: `${this.dropped} more lines were not kept (the log holds ${MAX_LINES})`,
          }),
        ]
      : [];
    return [...this.lines, ...tail].map((l) => `${l}\n`).join("");
  }
}
