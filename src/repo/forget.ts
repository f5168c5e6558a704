// `repo forget`: which snapshots a retention policy keeps, restic's way. Snapshots are grouped
// by host and paths; within a group, newest first, each keep-* rule keeps the newest snapshot
// of each of its N most recent periods, and keep-tag keeps every snapshot with such a tag.
import { ArcaError } from "../common/errors.js";
import { fileKey, type Id } from "./layout.js";
import { RepositoryLock } from "./lock.js";
import type { Snapshot } from "./model.js";
import type { Repository } from "./repository.js";

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  keepTags?: string[];
}

export interface ForgetDecision {
  id: Id;
  snapshot: Snapshot;
  keep: boolean;
  reasons: string[];
}

/** ISO 8601 week of a calendar date, as Go's Time.ISOWeek. */
function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return `${weekYear}-W${String(week).padStart(2, "0")}`;
}

/** Period keys from the time as written (its own offset), as restic buckets local times. */
function period(time: string, unit: keyof Omit<RetentionPolicy, "keepTags" | "last">): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d)/.exec(time);
  if (!m) throw new ArcaError(`snapshot time ${time} is not RFC 3339`);
  const [, y, mo, d, h] = m;
  switch (unit) {
    case "hourly":
      return `${y}-${mo}-${d}T${h}`;
    case "daily":
      return `${y}-${mo}-${d}`;
    case "weekly":
      return isoWeek(Number(y), Number(mo), Number(d));
    case "monthly":
      return `${y}-${mo}`;
    case "yearly":
      return `${y}`;
  }
}

export function policyIsEmpty(p: RetentionPolicy): boolean {
  return !p.last && !p.hourly && !p.daily && !p.weekly && !p.monthly && !p.yearly && !p.keepTags?.length;
}

export function applyPolicy(
  snapshots: Array<{ id: Id; snapshot: Snapshot }>,
  policy: RetentionPolicy,
): ForgetDecision[] {
  if (policyIsEmpty(policy)) {
    throw new ArcaError("no retention rule given; refusing to forget every snapshot", {
      hint: "give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-tag",
    });
  }
  const groups = new Map<string, Array<{ id: Id; snapshot: Snapshot }>>();
  for (const s of snapshots) {
    const key = `${s.snapshot.hostname ?? ""}\0${[...s.snapshot.paths].sort().join("\0")}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const decisions: ForgetDecision[] = [];
  for (const group of groups.values()) {
    const newestFirst = [...group].sort((a, b) => (a.snapshot.time < b.snapshot.time ? 1 : -1));
    const units = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
    const budget = Object.fromEntries(units.map((u) => [u, policy[u] ?? 0])) as Record<
      (typeof units)[number],
      number
    >;
    const lastPeriod: Partial<Record<(typeof units)[number], string>> = {};
    let last = policy.last ?? 0;
    for (const s of newestFirst) {
      const reasons: string[] = [];
      if (last > 0) {
        last--;
        reasons.push("last");
      }
      for (const unit of units) {
        if (budget[unit] <= 0) continue;
        const p = period(s.snapshot.time, unit);
        if (p !== lastPeriod[unit]) {
          lastPeriod[unit] = p;
          budget[unit]--;
          reasons.push(`${unit} ${p}`);
        }
      }
      const tagged = (policy.keepTags ?? []).filter((t) => s.snapshot.tags?.includes(t));
      if (tagged.length) reasons.push(`tag ${tagged.join(",")}`);
      decisions.push({ ...s, keep: reasons.length > 0, reasons });
    }
  }
  return decisions;
}

/** Removes the snapshots the policy does not keep; with dryRun, only decides. */
export async function forgetSnapshots(
  repo: Repository,
  policy: RetentionPolicy,
  options: { tags?: string[]; dryRun?: boolean } = {},
): Promise<ForgetDecision[]> {
  const lock = await RepositoryLock.acquire(repo, true);
  try {
    const all = (await repo.listSnapshots()).filter(({ snapshot }) =>
      (options.tags ?? []).every((t) => snapshot.tags?.includes(t)),
    );
    const decisions = applyPolicy(all, policy);
    if (!options.dryRun) {
      for (const d of decisions) if (!d.keep) await repo.store.delete(fileKey("snapshots", d.id));
    }
    return decisions;
  } finally {
    await lock.release();
  }
}
