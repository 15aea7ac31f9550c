// uprobes and uretprobes through the perf-event uprobe PMU (kernel >= 4.17): the probe lives as long as the perf
// event fd, so nothing is written to tracefs uprobe_events and the kernel removes the probe when the process
// dies, SIGKILL included. config1 points at the path, config2 is the file offset, the retprobe and
// ref_ctr_offset (USDT semaphore, kernel >= 4.20) fields sit in `config` where the PMU's format files say.
// With a BPF cookie (USDT locations) the program is attached through a BPF link (LINK_CREATE, kernel >= 5.15),
// the only way to give a perf-event program a cookie.
import { readFileSync } from "node:fs";
import { addressOf, bpf, perf, SyscallError, type Fd } from "../sys/index.js";
import { AttachType } from "../sys/abi.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { attachToPerfEvent } from "./perf-event-link.js";
import { Link } from "./link.js";

const PMU_DIR = "/sys/bus/event_source/devices/uprobe";

export interface UprobePmu {
  type: number;
  retprobeBit: number;
  /** First bit and width of ref_ctr_offset in `config`; undefined when the kernel cannot manage semaphores. */
  refCtr?: { shift: number; bits: number };
}

let pmu: UprobePmu | undefined;

/** Parses a PMU format line such as "config:0" or "config:32-63". */
export function parsePmuFormat(text: string): { shift: number; bits: number } | undefined {
  const m = /^config:(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return hi >= lo ? { shift: lo, bits: hi - lo + 1 } : undefined;
}

/** The uprobe PMU as sysfs describes it (read once). */
export function uprobePmu(): UprobePmu {
  if (pmu) return pmu;
  let typeText: string, retText: string;
  try {
    typeText = readFileSync(`${PMU_DIR}/type`, "utf8");
    retText = readFileSync(`${PMU_DIR}/format/retprobe`, "utf8");
  } catch (e) {
    throw new TsbccError(ErrorCode.UNSUPPORTED, `uprobes: this kernel has no uprobe PMU (${PMU_DIR}): built without CONFIG_UPROBE_EVENTS or older than 4.17`, { cause: e });
  }
  const type = Number(typeText.trim());
  const ret = parsePmuFormat(retText);
  if (!Number.isInteger(type) || !ret) throw new TsbccError(ErrorCode.UNSUPPORTED, `uprobes: unexpected uprobe PMU description in ${PMU_DIR}`);
  let refCtr: { shift: number; bits: number } | undefined;
  try {
    refCtr = parsePmuFormat(readFileSync(`${PMU_DIR}/format/ref_ctr_offset`, "utf8"));
  } catch {
    refCtr = undefined;
  }
  return (pmu = { type, retprobeBit: ret.shift, refCtr });
}

export interface UprobeTarget {
  /** The file to probe, as this process can open it (e.g. /proc/PID/root/usr/lib/...). */
  path: string;
  /** File offset of the probed instruction. */
  offset: bigint;
  retprobe?: boolean;
  /** Only this process (> 0); all processes otherwise. */
  pid?: number;
  /** File offset of a USDT semaphore the kernel increments while the probe exists. */
  refCtrOffset?: bigint;
  /** BPF cookie the program reads with bpf_get_attach_cookie (attaches through a BPF link). */
  cookie?: bigint;
  /** How the probe is described in messages (defaults to path+offset). */
  label?: string;
}

function fail(target: string, problem: string, cause?: unknown): TsbccError {
  return new TsbccError(ErrorCode.ATTACH, `cannot attach to ${target}: ${problem}`, { cause });
}

/** Opens the uprobe perf event for `t` (not yet carrying a program). */
export function openUprobeEvent(t: UprobeTarget): Fd {
  const target = t.label ?? `${t.retprobe ? "uretprobe" : "uprobe"} ${t.path}+0x${t.offset.toString(16)}`;
  const { type, retprobeBit, refCtr } = uprobePmu();
  let config = t.retprobe ? 1n << BigInt(retprobeBit) : 0n;
  if (t.refCtrOffset !== undefined && t.refCtrOffset !== 0n) {
    if (!refCtr) throw fail(target, "this kernel's uprobe PMU has no ref_ctr_offset (USDT semaphores need kernel >= 4.20)");
    if (t.refCtrOffset >= 1n << BigInt(refCtr.bits)) throw fail(target, `semaphore offset 0x${t.refCtrOffset.toString(16)} does not fit ref_ctr_offset`);
    config |= t.refCtrOffset << BigInt(refCtr.shift);
  }
  const pid = t.pid !== undefined && t.pid > 0 ? t.pid : -1;
  const path = new TextEncoder().encode(`${t.path}\0`);
  try {
    return perf.perfEventOpen({ type, config, config1: addressOf(path), config2: t.offset, samplePeriod: 1, wakeupEvents: 1 },
      pid, pid > 0 ? -1 : 0, target, path);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const why: Record<string, string> = {
      ENOENT: "the file does not exist",
      ESRCH: `process ${pid} does not exist`,
      EINVAL: "the offset is not an instruction the kernel can probe, or the semaphore offset conflicts with another probe's",
      EACCES: "not allowed (needs root or CAP_PERFMON)",
      EPERM: "not allowed (needs root or CAP_PERFMON)",
    };
    const code = e.errnoCode === "ESRCH" ? ErrorCode.NO_SUCH_PROCESS : e.errnoCode === "EPERM" || e.errnoCode === "EACCES" ? ErrorCode.PERMISSION : ErrorCode.ATTACH;
    throw new TsbccError(code, `cannot attach to ${target}: ${why[e.code] ?? e.message} [${e.errnoCode}]`, { cause: e });
  }
}

let openUprobes = 0;

/** uprobes (USDT locations included) attached and not yet detached, in this process. */
export function numOpenUprobes(): number {
  return openUprobes;
}

/** Attaches a KPROBE-type program to a uprobe; closing the link removes the probe. */
export function attachUprobe(progFd: number, t: UprobeTarget): Link {
  const link = attachUprobeLink(progFd, t);
  openUprobes++;
  link.onClose(() => openUprobes--);
  return link;
}

function attachUprobeLink(progFd: number, t: UprobeTarget): Link {
  const label = t.label ?? `${t.retprobe ? "uretprobe" : "uprobe"} ${t.path}+0x${t.offset.toString(16)}${t.pid && t.pid > 0 ? ` pid ${t.pid}` : ""}`;
  const event = openUprobeEvent({ ...t, label });
  if (t.cookie === undefined) {
    try {
      return attachToPerfEvent(progFd, event, label);
    } catch (e) {
      if (e instanceof SyscallError) throw fail(label, e.message, e);
      throw e;
    }
  }
  let link: Fd;
  try {
    link = bpf.linkCreate({ progFd, targetFd: event.value, attachType: AttachType.PERF_EVENT, perfEventCookie: t.cookie });
  } catch (e) {
    event.close();
    if (e instanceof SyscallError && (e.errnoCode === "EINVAL" || e.errnoCode === "E2BIG")) {
      throw new TsbccError(ErrorCode.UNSUPPORTED, `cannot attach to ${label}: this kernel cannot give a uprobe program a BPF cookie ` +
        `(BPF links on perf events need kernel >= 5.15; USDT arguments use the cookie) [${e.errnoCode}]`, { cause: e });
    }
    if (e instanceof SyscallError) throw fail(label, e.message, e);
    throw e;
  }
  return new Link(label, [event, link]);
}
