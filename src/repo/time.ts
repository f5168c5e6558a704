// Times as restic writes them: RFC 3339 with nanoseconds and the local offset, like Go's
// time.RFC3339Nano ("2026-11-24T10:31:02.123456789+08:00"). JavaScript Dates stop at
// milliseconds, so file times carry their nanoseconds separately.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `nanos` is the sub-second part in nanoseconds; it replaces the Date's milliseconds. */
export function formatTime(date: Date, nanos?: number): string {
  const offsetMin = -date.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const zone = abs === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  const ns = nanos ?? date.getMilliseconds() * 1_000_000;
  // Go trims trailing zeros of the fraction, and drops it when zero.
  const fraction = ns === 0 ? "" : `.${String(ns).padStart(9, "0").replace(/0+$/, "")}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${fraction}${zone}`
  );
}

/** Whole nanoseconds since the epoch, from a restic time string (exact, unlike Date). */
export function parseTimeNs(text: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) throw new Error(`not an RFC 3339 time: ${text}`);
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) throw new Error(`not an RFC 3339 time: ${text}`);
  const fraction = BigInt((m[2] ?? "").padEnd(9, "0") || "0");
  return BigInt(seconds) * 1_000_000n + fraction;
}

/** Nanoseconds since the epoch as whole seconds (floored) and the nanoseconds past them. */
export function secondsAndNanos(ns: bigint): [seconds: number, nanos: number] {
  const billion = 1_000_000_000n;
  let seconds = ns / billion;
  if (ns < 0n && ns % billion !== 0n) seconds -= 1n; // floor, not truncation
  return [Number(seconds), Number(ns - seconds * billion)];
}

/** Formats nanoseconds since the epoch (as fs.stat's bigint fields give them). */
export function formatTimeNs(ns: bigint): string {
  const [seconds, nanos] = secondsAndNanos(ns);
  return formatTime(new Date(seconds * 1000), nanos);
}
