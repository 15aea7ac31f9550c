// perf_event_open(2) and the perf ioctls. Used for tracepoint/kprobe/uprobe attachment (SET_BPF),
// software events, and the BPF_OUTPUT events behind perf buffers.
import { ioctl, rawPerfEventOpen, SyscallError } from "./native.js";
import { Fd } from "./fd.js";

export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
export const PerfSwConfig = {
  CPU_CLOCK: 0, TASK_CLOCK: 1, PAGE_FAULTS: 2, CONTEXT_SWITCHES: 3, CPU_MIGRATIONS: 4, PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6, ALIGNMENT_FAULTS: 7, EMULATION_FAULTS: 8, DUMMY: 9, BPF_OUTPUT: 10,
} as const;
export const PERF_SAMPLE_RAW = 1 << 10;
export const PERF_FLAG_FD_CLOEXEC = 8;

const IOC_ENABLE = 0x2400, IOC_DISABLE = 0x2401, IOC_SET_BPF = 0x40042408;

export interface PerfEventAttr {
  type: number;
  config?: bigint | number;
  samplePeriod?: bigint | number;
  sampleFreq?: bigint | number;
  sampleType?: number;
  /** Wake the reader after this many events (or bytes, with `watermark`). */
  wakeupEvents?: number;
  watermark?: boolean;
  disabled?: boolean;
  inherit?: boolean;
  /** kprobe/uprobe PMUs: config1 holds a pointer to the function name or path, config2 the offset. */
  config1?: bigint;
  config2?: bigint;
  excludeKernel?: boolean;
  excludeUser?: boolean;
}

const ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7: understood by every kernel we support.

export function encodePerfAttr(a: PerfEventAttr): Uint8Array {
  const b = new Uint8Array(ATTR_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, a.type, true);
  v.setUint32(4, ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(a.config ?? 0), true);
  v.setBigUint64(16, BigInt(a.sampleFreq ?? a.samplePeriod ?? 0), true);
  v.setBigUint64(24, BigInt(a.sampleType ?? 0), true);
  let flags = 0n;
  if (a.disabled) flags |= 1n << 0n;
  if (a.inherit) flags |= 1n << 1n;
  if (a.excludeUser) flags |= 1n << 4n;
  if (a.excludeKernel) flags |= 1n << 5n;
  if (a.sampleFreq !== undefined) flags |= 1n << 10n;
  if (a.watermark) flags |= 1n << 14n;
  v.setBigUint64(40, flags, true);
  v.setUint32(48, a.wakeupEvents ?? 0, true);
  v.setBigUint64(56, a.config1 ?? 0n, true);
  v.setBigUint64(64, a.config2 ?? 0n, true);
  return b;
}

/**
 * Opens a perf event. `keepAlive` holds buffers whose addresses are inside the attr (kprobe/uprobe names)
 * so they cannot be collected before the call returns.
 */
export function perfEventOpen(a: PerfEventAttr, pid: number, cpu: number, label: string, keepAlive?: unknown): Fd {
  const attr = encodePerfAttr(a);
  const { ret, errno } = rawPerfEventOpen(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  void keepAlive;
  if (ret < 0) throw new SyscallError("perf_event_open", errno, label);
  return new Fd(ret, label);
}

export function perfSetBpf(perfFd: number, progFd: number): void {
  ioctl(perfFd, IOC_SET_BPF, progFd, "ioctl(PERF_EVENT_IOC_SET_BPF)");
}
export function perfEnable(perfFd: number): void {
  ioctl(perfFd, IOC_ENABLE, 0, "ioctl(PERF_EVENT_IOC_ENABLE)");
}
export function perfDisable(perfFd: number): void {
  ioctl(perfFd, IOC_DISABLE, 0, "ioctl(PERF_EVENT_IOC_DISABLE)");
}
