// Small output helpers shared by the tools' text formats (BCC's column conventions).

/** HH:MM:SS local time, BCC's strftime("%H:%M:%S"). */
export function clock(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Left-aligned column (Python's "%-Ns"). */
export function left(v: unknown, width: number): string {
  return String(v).padEnd(width);
}

/** Right-aligned column (Python's "%Ns"). */
export function right(v: unknown, width: number): string {
  return String(v).padStart(width);
}

/** Python's "%.Nf". */
export function fixed(v: number, digits: number): string {
  return v.toFixed(digits);
}

/** Seconds since `start` (process.hrtime.bigint()), as a number. */
export function secondsSince(start: bigint, now = process.hrtime.bigint()): number {
  return Number(now - start) / 1e9;
}

/** Nanoseconds since boot (CLOCK_MONOTONIC, as bpf_ktime_get_ns()) now. */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}
