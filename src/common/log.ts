// The one logger. Secrets never reach a log: fields that can hold one are redacted by name,
// and code logs where credentials came from, never what they are. pino is loaded with the
// first line that is actually written: a CLI run that logs nothing (most, at level warn)
// saves the 25-30 ms its modules take to load.
import { createRequire } from "node:module";
import type * as Pino from "pino";

type LogFn = { (fields: object, message?: string): void; (message: string): void };

/** What Arca logs through: the part of pino's Logger it uses. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const loadPino = () => createRequire(import.meta.url)("pino") as typeof Pino;

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Stands in for a pino logger until a line at or above its level comes; then makes it. */
class DeferredLogger implements Logger {
  private real: Logger | undefined;
  private readonly threshold: number;

  constructor(
    private readonly level: string,
    private readonly make: () => Logger,
  ) {
    this.threshold = LEVELS[level] ?? Infinity; // "silent", and anything pino would refuse
    if (level !== "silent" && !(level in LEVELS)) this.real = make(); // let pino name the bad level
  }

  private log(level: number, method: "debug" | "info" | "warn" | "error", args: [object | string, string?]) {
    if (level < this.threshold) return;
    const real = (this.real ??= this.make());
    (real[method] as (...a: unknown[]) => void)(...args);
  }

  debug: LogFn = (...args: [object | string, string?]) => this.log(20, "debug", args);
  info: LogFn = (...args: [object | string, string?]) => this.log(30, "info", args);
  warn: LogFn = (...args: [object | string, string?]) => this.log(40, "warn", args);
  error: LogFn = (...args: [object | string, string?]) => this.log(50, "error", args);

  child(bindings: Record<string, unknown>): Logger {
    return new DeferredLogger(this.level, () => (this.real ??= this.make()).child(bindings));
  }
}

const SECRET_FIELDS = [
  "secretAccessKey",
  "accessKeySecret",
  "securityToken",
  "sessionToken",
  "password",
  "token",
];

const redact = { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: "[redacted]" };

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.ARCA_LOG_LEVEL ?? "info";
  return new DeferredLogger(level, () =>
    loadPino().pino({ level, base: undefined, redact }, options.destination ?? process.stderr),
  );
}

/** A logger that drops everything, for callers that do not care. */
export const silentLogger: Logger = new DeferredLogger("silent", () => loadPino().pino({ level: "silent" }));

/** Shows enough of an access key id to tell keys apart, and no more. */
export function maskKeyId(id: string): string {
  return id.length <= 8 ? "****" : `${id.slice(0, 4)}****${id.slice(-4)}`;
}

/**
 * A logger that also keeps its lines (the newest `maxBytes`), so that work run in the
 * controller can store its own log next to its object; `echoLevel` goes on to stderr too.
 */
export function capturingLogger(echoLevel: string, maxBytes = 4 << 20): { logger: Logger; text(): Buffer } {
  const lines: Buffer[] = [];
  let size = 0;
  const sink = {
    write(line: string) {
      const b = Buffer.from(line);
      lines.push(b);
      size += b.length;
      while (size > maxBytes && lines.length > 1) size -= (lines.shift() as Buffer).length;
    },
  };
  const { pino } = loadPino();
  const streams: Pino.StreamEntry[] = [{ level: "info", stream: sink }];
  if (echoLevel !== "silent") streams.push({ level: echoLevel as Pino.Level, stream: process.stderr });
  const logger = pino({ level: "info", base: undefined, redact }, pino.multistream(streams));
  return { logger, text: () => Buffer.concat(lines) };
}
