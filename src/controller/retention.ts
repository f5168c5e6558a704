// Which backups a Schedule forgets, with restic's `forget --keep-*` semantics, so an operator
// who knows restic's policy knows ours. Pure: the caller lists the backups and deletes.
// Items are told apart by name, so names must be unique.
import { ArcaError } from "../common/errors.js";

export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export interface Dated {
  name: string;
  time: Date;
}

type Rule = { key: keyof RetentionPolicy; label: string; bucket: (local: LocalDate) => string };

// Order matters only for the order of reasons.
const RULES: Rule[] = [
  { key: "keepLast", label: "last", bucket: () => "" },
  { key: "keepDaily", label: "daily", bucket: (d) => `${d.year}-${pad(d.month)}-${pad(d.day)}` },
  { key: "keepWeekly", label: "weekly", bucket: isoWeek },
  { key: "keepMonthly", label: "monthly", bucket: (d) => `${d.year}-${pad(d.month)}` },
];

export function toForget<T extends Dated>(
  items: T[],
  policy: RetentionPolicy,
  timezone = "UTC",
): { keep: T[]; forget: T[]; reasons: Map<string, string[]> } {
  const rules = RULES.filter((r) => policy[r.key] !== undefined);
  for (const r of rules) checkCount(r.key, policy[r.key] as number);
  const sorted = [...items].sort((a, b) => b.time.getTime() - a.time.getTime());
  const reasons = new Map<string, string[]>();
  // No rule at all is "no policy", not "keep nothing": deleting every backup needs saying so.
  if (rules.length === 0) return { keep: sorted, forget: [], reasons };

  const local = localDates(timezone);
  for (const rule of rules) {
    let left = policy[rule.key] as number;
    let last: string | undefined;
    for (const item of sorted) {
      if (left === 0) break;
      if (rule.key === "keepLast") {
        addReason(reasons, item.name, `last ${policy.keepLast}`);
        left--;
        continue;
      }
      // Newest first, so the first item seen in a bucket is that bucket's newest.
      const bucket = rule.bucket(local(item.time));
      if (bucket === last) continue;
      last = bucket;
      addReason(reasons, item.name, `${rule.label} ${bucket}`);
      left--;
    }
  }
  return {
    keep: sorted.filter((i) => reasons.has(i.name)),
    forget: sorted.filter((i) => !reasons.has(i.name)),
    reasons,
  };
}

function checkCount(key: string, n: number): void {
  if (!Number.isInteger(n) || n < 0)
    throw new ArcaError(`invalid retention ${key}: ${n}`, {
      hint: `${key} must be a whole number of 0 or more; leave it out to not use that rule`,
    });
}

function addReason(reasons: Map<string, string[]>, name: string, reason: string): void {
  const list = reasons.get(name);
  if (list) list.push(reason);
  else reasons.set(name, [reason]);
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date of an instant in a time zone ("a day" is the operator's day, not UTC's). */
function localDates(timezone: string): (time: Date) => LocalDate {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
    });
  } catch (err) {
    throw new ArcaError(`unknown time zone ${JSON.stringify(timezone)}`, {
      hint: 'use an IANA name such as "UTC" or "Europe/Berlin"',
      cause: err,
    });
  }
  return (time) => {
    const parts = Object.fromEntries(format.formatToParts(time).map((p) => [p.type, p.value]));
    return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
  };
}

/** ISO 8601 week ("2027-W01"): weeks start on Monday; week 1 holds the year's first Thursday. */
function isoWeek(d: LocalDate): string {
  // Calendar arithmetic on the local date, done in UTC where no day is 23 or 25 hours long.
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const year = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${pad(week)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
