// CPU sets as the kernel publishes them in sysfs.
//
// Per-CPU maps size their values by the number of *possible* CPUs, while perf buffers and
// per-CPU perf events are opened on each *online* CPU. Both lists are fixed for the life of
// the process in practice (CPU hotplug changes `online`, but BCC reads it once too), so we
// read each file once and cache the answer.

import { ErrorCode, TsbccError } from "../errors.js";
import { readFileSync } from "node:fs";

const ONLINE_PATH = "/sys/devices/system/cpu/online";
const POSSIBLE_PATH = "/sys/devices/system/cpu/possible";

/**
 * Parse a kernel CPU list such as `0-3,5,7-8` (the format of sysfs `online`/`possible`)
 * into a sorted, de-duplicated array of CPU numbers. Surrounding whitespace and a trailing
 * newline are accepted; an empty list gives `[]`. Anything else throws, because a silently
 * wrong CPU count corrupts every per-CPU map value.
 */
export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const cpus = new Set<number>();
  for (const rawPart of trimmed.split(",")) {
    const part = rawPart.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TsbccError(ErrorCode.KERNEL_DATA, `invalid CPU list ${JSON.stringify(text)}: bad element ${JSON.stringify(part)}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new TsbccError(ErrorCode.KERNEL_DATA, `invalid CPU list ${JSON.stringify(text)}: descending range ${JSON.stringify(part)}`);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

function readCpuFile(path: string): number[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TsbccError(ErrorCode.KERNEL_DATA, `cannot read CPU list from ${path}: ${(err as Error).message}`);
  }
  return parseCpuList(text);
}

let onlineCache: readonly number[] | undefined;
let possibleCache: readonly number[] | undefined;

/** CPUs currently online (sysfs `cpu/online`), cached after the first call. Returns a fresh copy. */
export function onlineCpus(): number[] {
  onlineCache ??= Object.freeze(readCpuFile(ONLINE_PATH));
  return [...onlineCache];
}

/** CPUs that may ever be brought online (sysfs `cpu/possible`), cached. Returns a fresh copy. */
export function possibleCpus(): number[] {
  possibleCache ??= Object.freeze(readCpuFile(POSSIBLE_PATH));
  return [...possibleCache];
}

/**
 * Number of possible CPUs: the multiplier the kernel uses for per-CPU map values
 * (it counts the bits of the possible mask, which is what the list length is).
 */
export function numPossibleCpus(): number {
  possibleCache ??= Object.freeze(readCpuFile(POSSIBLE_PATH));
  return possibleCache.length;
}
