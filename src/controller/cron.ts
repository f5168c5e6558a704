// Schedule expressions for the Schedule resource: cron (5 or 6 fields), the usual macros, and
// "@every <duration>". Pure: the controller supplies every instant, so tests need no clock.
import { CronExpressionParser } from "cron-parser";
import { ArcaError, messageOf } from "../common/errors.js";
import { parseDuration } from "../backup/spec.js";

export interface CronSchedule {
  /** The first firing strictly after `after`. */
  next(after: Date): Date;
  readonly text: string;
}

const HINT =
  'write 5 cron fields ("0 2 * * *"), 6 with seconds first ("*/30 * * * * *"), ' +
  'a macro (@hourly, @daily, @midnight, @weekly, @monthly, @yearly) or "@every 1h30m"';

// Spelled out here rather than left to cron-parser, which knows other macros (@secondly,
// @weekdays) that other cron implementations do not: a Schedule should mean the same everywhere.
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MIN_EVERY_MS = 1000;

export function parseSchedule(text: string, timezone = "UTC"): CronSchedule {
  checkTimezone(timezone);
  const trimmed = text.trim();
  const every = /^@every\s+(\S+)$/.exec(trimmed);
  if (every) return everySchedule(text, every[1] as string);
  const expression = trimmed.startsWith("@") ? MACROS[trimmed.toLowerCase()] : trimmed;
  const fields = expression?.split(/\s+/).length ?? 0;
  if (expression === undefined || (fields !== 5 && fields !== 6))
    throw invalid(text, expression === undefined ? "unknown macro" : `${fields} fields`);
  const at = (after: Date): Date => {
    try {
      return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone }).next().toDate();
    } catch (err) {
      throw invalid(text, messageOf(err), err);
    }
  };
  // Parse (and step once) now, so a bad expression fails when the Schedule is admitted, not later.
  at(new Date(0));
  return { text, next: at };
}

function everySchedule(text: string, duration: string): CronSchedule {
  let ms: number;
  try {
    ms = parseDuration(duration);
  } catch (err) {
    throw invalid(text, messageOf(err), err);
  }
  // Sub-second intervals would start backups faster than any can finish.
  if (ms < MIN_EVERY_MS) throw invalid(text, "the interval must be at least 1s");
  // Relative to the last run (the controller passes it), not aligned to a clock.
  return { text, next: (after) => new Date(after.getTime() + ms) };
}

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
  } catch (err) {
    throw new ArcaError(`unknown time zone ${JSON.stringify(timezone)}`, {
      hint: 'use an IANA name such as "UTC" or "Europe/Berlin"',
      cause: err,
    });
  }
}

function invalid(text: string, why: string, cause?: unknown): ArcaError {
  return new ArcaError(`invalid schedule ${JSON.stringify(text)}: ${why}`, { hint: HINT, cause });
}

/**
 * Whether a run is due at `now`, and when. Only the first firing after the last run (or the
 * Schedule's creation) is considered: a controller that was down for a week starts ONE backup
 * on its return, not one per missed firing; the next is then computed from that run.
 */
export function dueRuns(
  schedule: CronSchedule,
  lastRun: Date | undefined,
  created: Date,
  now: Date,
): { due: boolean; next: Date } {
  const next = schedule.next(lastRun ?? created);
  return { due: next.getTime() <= now.getTime(), next };
}
