// The one logger. Secrets never reach a log: fields that can hold one are redacted by name,
// and code logs where credentials came from, never what they are.
import { pino, type Logger } from "pino";

export type { Logger };

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
  return pino(
    {
      level: options.level ?? process.env.ARCA_LOG_LEVEL ?? "info",
      base: undefined,
      redact,
    },
    options.destination ?? process.stderr,
  );
}

/** A logger that drops everything, for callers that do not care. */
export const silentLogger: Logger = pino({ level: "silent" });

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
  const streams: pino.StreamEntry[] = [{ level: "info", stream: sink }];
  if (echoLevel !== "silent") streams.push({ level: echoLevel as pino.Level, stream: process.stderr });
  const logger = pino({ level: "info", base: undefined, redact }, pino.multistream(streams));
  return { logger, text: () => Buffer.concat(lines) };
}
