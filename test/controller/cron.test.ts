// Schedule expressions: when a Schedule fires, and which texts it refuses (and how it says so).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArcaError } from "../../src/common/errors.js";
import { dueRuns, parseSchedule } from "../../src/controller/cron.js";

const at = (iso: string): Date => new Date(iso);
const next = (text: string, after: string, tz?: string): string =>
  parseSchedule(text, tz).next(at(after)).toISOString();

describe("cron schedules", () => {
  it("0 2 * * * fires at 02:00 UTC by default", () => {
    assert.equal(next("0 2 * * *", "2026-01-01T10:00:00Z"), "2026-01-02T02:00:00.000Z");
  });

  it("fires strictly after the given instant, never at it", () => {
    assert.equal(next("0 2 * * *", "2026-01-01T02:00:00Z"), "2026-01-02T02:00:00.000Z");
  });

  it("0 2 * * * in Asia/Shanghai fires at 18:00 UTC", () => {
    assert.equal(next("0 2 * * *", "2026-01-01T00:00:00Z", "Asia/Shanghai"), "2026-01-01T18:00:00.000Z");
  });

  it("a 6-field expression fires every 5 seconds", () => {
    const s = parseSchedule("*/5 * * * * *");
    const first = s.next(at("2026-01-01T00:00:01Z"));
    assert.equal(first.toISOString(), "2026-01-01T00:00:05.000Z");
    assert.equal(s.next(first).toISOString(), "2026-01-01T00:00:10.000Z");
  });

  const macros: Array<[string, string]> = [
    ["@yearly", "2027-01-01T00:00:00.000Z"],
    ["@annually", "2027-01-01T00:00:00.000Z"],
    ["@monthly", "2026-04-01T00:00:00.000Z"],
    ["@weekly", "2026-03-22T00:00:00.000Z"], // Sunday
    ["@daily", "2026-03-19T00:00:00.000Z"],
    ["@midnight", "2026-03-19T00:00:00.000Z"],
    ["@hourly", "2026-03-18T13:00:00.000Z"],
  ];
  for (const [macro, expected] of macros) {
    it(`${macro} after 2026-03-18T12:34Z fires at ${expected}`, () => {
      assert.equal(next(macro, "2026-03-18T12:34:00Z"), expected);
    });
  }

  it("macros follow the time zone too: @daily in Asia/Shanghai is 16:00 UTC", () => {
    assert.equal(next("@daily", "2026-03-18T12:34:00Z", "Asia/Shanghai"), "2026-03-18T16:00:00.000Z");
  });

  it("keeps the text it was written as", () => {
    assert.equal(parseSchedule("@every 1h30m").text, "@every 1h30m");
    assert.equal(parseSchedule("0 2 * * *").text, "0 2 * * *");
  });
});

describe("@every schedules", () => {
  it("@every 90s after a run at T is due at T+90s", () => {
    assert.equal(next("@every 90s", "2026-01-01T00:00:00Z"), "2026-01-01T00:01:30.000Z");
  });

  it("@every 1h30m counts from the last run, not from the clock", () => {
    assert.equal(next("@every 1h30m", "2026-01-01T00:07:13Z"), "2026-01-01T01:37:13.000Z");
  });

  it("@every 1s is the shortest interval accepted", () => {
    assert.equal(next("@every 1s", "2026-01-01T00:00:00Z"), "2026-01-01T00:00:01.000Z");
  });
});

describe("refused schedules", () => {
  const refuses = (text: string, tz?: string) =>
    assert.throws(
      () => parseSchedule(text, tz),
      (err) => err instanceof ArcaError && err.message.includes(JSON.stringify(tz ?? text)) && !!err.hint,
    );

  for (const bad of [
    "bogus",
    "61 * * * *",
    "* * * *",
    "0 0 0 1 1 * 2027",
    "0 0 30 2 *",
    "@fortnightly",
    "@secondly",
    "@every",
    "@every 500ms",
    "@every soon",
    "",
  ])
    it(`bad expression ${JSON.stringify(bad)} names the text and hints at valid ones`, () => refuses(bad));

  it("wraps cron-parser's own error, keeping it as the cause", () => {
    assert.throws(
      () => parseSchedule("61 * * * *"),
      (err) => err instanceof ArcaError && err.cause instanceof Error && /61/.test(err.message),
    );
  });

  it("unknown timezone rejected, naming it", () => refuses("0 2 * * *", "Mars/Olympus_Mons"));
});

describe("due runs", () => {
  const created = at("2026-01-01T00:00:00Z");
  const daily = parseSchedule("0 2 * * *");

  it("the first run is due at the first firing after the Schedule was created", () => {
    assert.deepEqual(dueRuns(daily, undefined, created, at("2026-01-01T01:59:59Z")), {
      due: false,
      next: at("2026-01-01T02:00:00Z"),
    });
    assert.equal(dueRuns(daily, undefined, created, at("2026-01-01T02:00:00Z")).due, true);
  });

  it("after a run, the next is counted from that run", () => {
    const r = dueRuns(daily, at("2026-01-01T02:00:05Z"), created, at("2026-01-01T12:00:00Z"));
    assert.deepEqual(r, { due: false, next: at("2026-01-02T02:00:00Z") });
  });

  it("a controller down for a week sees one due run", () => {
    const lastRun = at("2026-01-01T02:00:00Z");
    const now = at("2026-01-08T12:00:00Z");
    const r = dueRuns(daily, lastRun, created, now);
    assert.deepEqual(r, { due: true, next: at("2026-01-02T02:00:00Z") });
    // Once that one run is recorded, nothing more is due until the next firing.
    assert.deepEqual(dueRuns(daily, now, created, now), { due: false, next: at("2026-01-09T02:00:00Z") });
  });

  it("@every 90s after a run at T is due at T+90s, not before", () => {
    const every = parseSchedule("@every 90s");
    const t = at("2026-01-01T00:00:00Z");
    assert.equal(dueRuns(every, t, created, at("2026-01-01T00:01:29.999Z")).due, false);
    assert.equal(dueRuns(every, t, created, at("2026-01-01T00:01:30Z")).due, true);
  });
});
