// Retention: which backups a Schedule forgets, the way restic's `forget --keep-*` decides it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArcaError } from "../../src/common/errors.js";
import { toForget, type RetentionPolicy } from "../../src/controller/retention.js";

const backup = (time: string) => ({ name: `b-${time}`, time: new Date(time) });
const names = (items: Array<{ name: string }>) => items.map((i) => i.name);

// Two backups a day, 02:00 and 14:00 UTC, from Nov 20 to Nov 24 2026; given oldest first.
const twiceDaily = ["20", "21", "22", "23", "24"].flatMap((d) => [
  backup(`2026-11-${d}T02:00:00Z`),
  backup(`2026-11-${d}T14:00:00Z`),
]);

describe("retention", () => {
  it("keepLast keeps the N newest, whatever order they come in", () => {
    const r = toForget(twiceDaily, { keepLast: 3 });
    assert.deepEqual(names(r.keep), [
      "b-2026-11-24T14:00:00Z",
      "b-2026-11-24T02:00:00Z",
      "b-2026-11-23T14:00:00Z",
    ]);
    assert.equal(r.forget.length, 7);
    assert.equal(r.forget[0]?.name, "b-2026-11-23T02:00:00Z", "forget is newest first too");
    assert.deepEqual(r.reasons.get("b-2026-11-24T14:00:00Z"), ["last 3"]);
  });

  it("keepDaily keeps the newest backup of each of the last N days that have one", () => {
    const r = toForget(twiceDaily, { keepDaily: 2 });
    assert.deepEqual(names(r.keep), ["b-2026-11-24T14:00:00Z", "b-2026-11-23T14:00:00Z"]);
    assert.deepEqual(r.reasons.get("b-2026-11-24T14:00:00Z"), ["daily 2026-11-24"]);
  });

  it("keepDaily skips days without backups rather than counting them", () => {
    const sparse = [backup("2026-11-01T02:00:00Z"), backup("2026-11-10T02:00:00Z")];
    assert.equal(toForget(sparse, { keepDaily: 2 }).forget.length, 0);
  });

  it("daily counts days in the given time zone: 20:00 UTC is already tomorrow in Shanghai", () => {
    const items = [
      backup("2026-11-23T10:00:00Z"), // 18:00 on the 23rd in Shanghai (UTC+8)
      backup("2026-11-23T20:00:00Z"), // 04:00 on the 24th in Shanghai
      backup("2026-11-24T10:00:00Z"), // 18:00 on the 24th in Shanghai
    ];
    const utc = toForget(items, { keepDaily: 2 });
    assert.deepEqual(names(utc.forget), ["b-2026-11-23T10:00:00Z"]);
    const shanghai = toForget(items, { keepDaily: 2 }, "Asia/Shanghai");
    assert.deepEqual(names(shanghai.forget), ["b-2026-11-23T20:00:00Z"]);
    assert.deepEqual(shanghai.reasons.get("b-2026-11-23T10:00:00Z"), ["daily 2026-11-23"]);
    assert.deepEqual(shanghai.reasons.get("b-2026-11-24T10:00:00Z"), ["daily 2026-11-24"]);
  });

  it("weekly uses ISO weeks: 2026-12-31 and 2027-01-01 fall in week 2026-W53", () => {
    const items = [
      backup("2026-12-24T12:00:00Z"), // Thu, 2026-W52
      backup("2026-12-31T12:00:00Z"), // Thu, 2026-W53
      backup("2027-01-01T12:00:00Z"), // Fri, 2026-W53
      backup("2027-01-04T12:00:00Z"), // Mon, 2027-W01
    ];
    const r = toForget(items, { keepWeekly: 3 });
    assert.deepEqual(names(r.keep), [
      "b-2027-01-04T12:00:00Z",
      "b-2027-01-01T12:00:00Z",
      "b-2026-12-24T12:00:00Z",
    ]);
    assert.deepEqual(names(r.forget), ["b-2026-12-31T12:00:00Z"]);
    assert.deepEqual(r.reasons.get("b-2027-01-04T12:00:00Z"), ["weekly 2027-W01"]);
    assert.deepEqual(r.reasons.get("b-2027-01-01T12:00:00Z"), ["weekly 2026-W53"]);
  });

  it("weekly: ISO week 1 can start in December (2025-12-29 is 2026-W01)", () => {
    const r = toForget([backup("2025-12-29T12:00:00Z"), backup("2025-12-28T12:00:00Z")], { keepWeekly: 2 });
    assert.deepEqual(r.reasons.get("b-2025-12-29T12:00:00Z"), ["weekly 2026-W01"]);
    assert.deepEqual(r.reasons.get("b-2025-12-28T12:00:00Z"), ["weekly 2025-W52"]);
  });

  it("keepMonthly keeps the newest backup of each of the last N months", () => {
    const items = [
      backup("2026-09-15T00:00:00Z"),
      backup("2026-10-01T00:00:00Z"),
      backup("2026-10-31T00:00:00Z"),
      backup("2026-11-02T00:00:00Z"),
    ];
    const r = toForget(items, { keepMonthly: 2 });
    assert.deepEqual(names(r.keep), ["b-2026-11-02T00:00:00Z", "b-2026-10-31T00:00:00Z"]);
    assert.deepEqual(r.reasons.get("b-2026-10-31T00:00:00Z"), ["monthly 2026-10"]);
  });

  it("keeps what any rule keeps, listing every reason", () => {
    const r = toForget(twiceDaily, { keepLast: 1, keepDaily: 3, keepWeekly: 1, keepMonthly: 1 });
    assert.deepEqual(names(r.keep), [
      "b-2026-11-24T14:00:00Z",
      "b-2026-11-23T14:00:00Z",
      "b-2026-11-22T14:00:00Z",
    ]);
    assert.deepEqual(r.reasons.get("b-2026-11-24T14:00:00Z"), [
      "last 1",
      "daily 2026-11-24",
      "weekly 2026-W48",
      "monthly 2026-11",
    ]);
    assert.equal(r.keep.length + r.forget.length, twiceDaily.length);
  });

  it("a policy with no rule keeps everything", () => {
    const r = toForget(twiceDaily, {});
    assert.equal(r.keep.length, twiceDaily.length);
    assert.deepEqual(r.forget, []);
  });

  it("a count of 0 is a rule that keeps nothing", () => {
    assert.equal(toForget(twiceDaily, { keepLast: 0 }).forget.length, twiceDaily.length);
  });

  for (const policy of [
    { keepLast: -1 },
    { keepDaily: 1.5 },
    { keepWeekly: Number.NaN },
  ] as RetentionPolicy[])
    it(`refuses the invalid count ${JSON.stringify(policy)}`, () => {
      assert.throws(() => toForget(twiceDaily, policy), ArcaError);
    });

  it("refuses an unknown time zone", () => {
    assert.throws(() => toForget(twiceDaily, { keepDaily: 1 }, "Mars/Olympus_Mons"), ArcaError);
  });
});
