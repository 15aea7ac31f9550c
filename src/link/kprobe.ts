// kprobes and kretprobes through the perf-event kprobe PMU (kernel >= 4.17): the probe lives as long as the
// perf event fd, so the kernel removes it when the process dies. No tracefs kprobe_events fallback yet.
import { ArgumentError } from "../errors.js";
import { readFileSync } from "node:fs";
import { addressOf, perf, SyscallError } from "../sys/index.js";
import { attachToPerfEvent } from "./perf-event-link.js";
import { AttachError, type Link } from "./link.js";

const PMU_DIR = "/sys/bus/event_source/devices/kprobe";

export interface KprobeOptions {
  /** Byte offset into the function (kprobes only). */
  offset?: number;
  /** Fire on return instead of on entry. */
  retprobe?: boolean;
}

let pmu: { type: number; retprobeBit: number } | undefined;

/** The kprobe PMU's type and the config bit that selects return probes (read once from sysfs). */
export function kprobePmu(): { type: number; retprobeBit: number } {
  if (pmu) return pmu;
  let typeText: string, formatText: string;
  try {
    typeText = readFileSync(`${PMU_DIR}/type`, "utf8");
    formatText = readFileSync(`${PMU_DIR}/format/retprobe`, "utf8");
  } catch (e) {
    throw new AttachError("kprobe", `this kernel has no kprobe PMU (${PMU_DIR}): built without CONFIG_KPROBES or older than 4.17`, { cause: e });
  }
  const type = Number(typeText.trim());
  const bit = formatText.trim().match(/^config:(\d+)$/);
  if (!Number.isInteger(type) || !bit) throw new AttachError("kprobe", `unexpected kprobe PMU description in ${PMU_DIR}`);
  return (pmu = { type, retprobeBit: Number(bit[1]) });
}

/** Attaches a KPROBE program to the entry (or, with `retprobe`, the return) of kernel function `fn`. */
export function attachKprobe(progFd: number, fn: string, opts: KprobeOptions = {}): Link {
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new ArgumentError("offset", `must be a non-negative integer, got ${offset}`);
  if (opts.retprobe && offset !== 0) throw new ArgumentError("offset", "a kretprobe cannot have an offset");
  if (!fn || fn.includes("\0")) throw new ArgumentError("event", `bad function name ${JSON.stringify(fn)}`);
  const target = `${opts.retprobe ? "kretprobe" : "kprobe"} ${fn}${offset ? `+${offset}` : ""}`;
  const { type, retprobeBit } = kprobePmu();
  // config1 points at the NUL-terminated name; keepAlive holds the buffer until the syscall returns.
  const name = new TextEncoder().encode(`${fn}\0`);
  try {
    const fd = perf.perfEventOpen({
      type, config: opts.retprobe ? 1n << BigInt(retprobeBit) : 0n,
      config1: addressOf(name), config2: BigInt(offset), samplePeriod: 1, wakeupEvents: 1,
    }, -1, 0, target, name);
    return attachToPerfEvent(progFd, fd, target);
  } catch (e) {
    if (e instanceof SyscallError) {
      if (e.errnoCode === "ENOENT" || e.errnoCode === "EINVAL") {
        throw new AttachError(target, `${fn} is not traceable: it does not exist, was inlined, or is marked notrace ` +
          `(see /sys/kernel/tracing/available_filter_functions) [${e.errnoCode}]`, { cause: e });
      }
      throw new AttachError(target, e.message, { cause: e });
    }
    throw e;
  }
}
