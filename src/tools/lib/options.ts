// Option specs that recur across BCC's tools, with BCC's letters and help texts, so each tool declares them in one
// word and they behave the same everywhere.
import type { OptionSpec, PositionalSpec } from "./args.js";
import type { StreamOptions } from "./stream.js";
import { userId } from "./users.js";
import { ErrorCode, TsbccError } from "../../errors.js";

export const pidOption = (help = "trace this PID only"): OptionSpec => ({ name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help });
export const tidOption = (help = "trace this TID only"): OptionSpec => ({ name: "tid", short: "t", long: "tid", kind: "value", parse: "uint", help });
export const uidOption = (help = "trace this UID only"): OptionSpec => ({ name: "uid", short: "u", long: "uid", kind: "value", parse: userId, metavar: "UID", help });
export const durationOption = (short: string | undefined = "d"): OptionSpec =>
  ({ name: "duration", short, long: "duration", kind: "value", parse: "number", help: "total duration of trace in seconds" });
export const timeOption = (help = "include timestamp on output", short = "T"): OptionSpec => ({ name: "timestamp", short, long: "timestamp", kind: "flag", help });
export const failedOption = (help = "only show failed calls"): OptionSpec => ({ name: "failed", short: "x", long: "failed", kind: "flag", help });
export const printUidOption = (help = "print UID column"): OptionSpec => ({ name: "printUid", short: "U", long: "print-uid", kind: "flag", help });
export const millisecondsOption = (help = "millisecond histogram"): OptionSpec => ({ name: "milliseconds", short: "m", long: "milliseconds", kind: "flag", help });
/** Histogram tools' -P / -L: one histogram per process ID / per thread ID. */
export const perProcessOption = (): OptionSpec => ({ name: "pids", short: "P", long: "pids", kind: "flag", help: "print a histogram per process ID" });
export const perThreadOption = (): OptionSpec => ({ name: "tids", short: "L", long: "tids", kind: "flag", help: "print a histogram per thread ID" });
export const bufferPagesOption = (): OptionSpec => ({
  name: "bufferPages", short: "b", long: "buffer-pages", kind: "value", parse: (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0 || (n & (n - 1)) !== 0) throw new TsbccError(ErrorCode.USAGE, `must be a power of two: '${s}'`);
    return n;
  }, default: 64, help: "size of the perf ring buffer (must be a power of two number of pages and defaults to 64)",
});

/** What interval tools take besides the stream's options (their `[interval] [count]` positionals). */
export interface IntervalOptions extends StreamOptions {
  /** Report every `interval` seconds (default: once, when the stream stops). */
  interval?: number;
  /** Stop after this many reports. */
  count?: number;
}

/** BCC's `[interval] [count]` positionals. */
export const intervalPositionals = (intervalHelp = "output interval, in seconds", countHelp = "number of outputs"): PositionalSpec[] => [
  { name: "interval", parse: positiveNumber, help: intervalHelp },
  { name: "count", parse: positiveInt, help: countHelp },
];

export function positiveNumber(s: string): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n <= 0) throw new TsbccError(ErrorCode.USAGE, `must be a positive number: '${s}'`);
  return n;
}

export function positiveInt(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || n <= 0) throw new TsbccError(ErrorCode.USAGE, `must be a positive integer: '${s}'`);
  return n;
}
