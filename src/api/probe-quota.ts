// The process-wide limit on open kprobes (and, later, uprobes), shared by every BPF object like BCC's global
// probe count: a regular expression that matches thousands of functions fails before attaching anything.
import { ErrorCode, TsbccError } from "../errors.js";
export const DEFAULT_PROBE_LIMIT = 1000;

let open = 0;

/** TSBCC_PROBE_LIMIT, or 1000. */
export function probeLimit(): number {
  const env = process.env.TSBCC_PROBE_LIMIT;
  const n = env === undefined || env === "" ? NaN : Number(env);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_PROBE_LIMIT;
}

export function numOpenProbes(): number {
  return open;
}

/** Throws when `count` more probes would go over the limit. */
export function checkProbeQuota(count: number): void {
  const limit = probeLimit();
  if (open + count > limit) {
    throw new TsbccError(ErrorCode.ATTACH, `number of open probes would exceed the quota: ${open} open + ${count} new > ${limit} ` +
      `(raise it with TSBCC_PROBE_LIMIT, or match fewer functions)`);
  }
}

/** Counts one open probe; the returned function un-counts it (once). */
export function countProbe(): () => void {
  open++;
  let done = false;
  return () => {
    if (!done) {
      done = true;
      open--;
    }
  };
}
