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

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.ARCA_LOG_LEVEL ?? "info",
      base: undefined,
      redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: "[redacted]" },
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
