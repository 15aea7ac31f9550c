// perf_event_open(2) and the perf ioctls. Used for tracepoint/kprobe/uprobe attachment (SET_BPF),
// software events, and the BPF_OUTPUT events behind perf buffers.
import { ioctl, rawPerfEventOpen, readFd, SyscallError } from "./native.js";
import { Fd } from "./fd.js";

export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
export const PerfSwConfig = {
  CPU_CLOCK: 0, TASK_CLOCK: 1, PAGE_FAULTS: 2, CONTEXT_SWITCHES: 3, CPU_MIGRATIONS: 4, PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6, ALIGNMENT_FAULTS: 7, EMULATION_FAULTS: 8, DUMMY: 9, BPF_OUTPUT: 10,
} as const;
export const PerfHwConfig = {
  CPU_CYCLES: 0, INSTRUCTIONS: 1, CACHE_REFERENCES: 2, CACHE_MISSES: 3, BRANCH_INSTRUCTIONS: 4, BRANCH_MISSES: 5,
  BUS_CYCLES: 6, STALLED_CYCLES_FRONTEND: 7, STALLED_CYCLES_BACKEND: 8, REF_CPU_CYCLES: 9,
} as const;
/** perf_event_attr.sample_type bits (PERF_SAMPLE_*). */
export const PerfSampleFormat = {
  IP: 1 << 0, TID: 1 << 1, TIME: 1 << 2, ADDR: 1 << 3, READ: 1 << 4, CALLCHAIN: 1 << 5, ID: 1 << 6, CPU: 1 << 7,
  PERIOD: 1 << 8, STREAM_ID: 1 << 9, RAW: 1 << 10, BRANCH_STACK: 1 << 11, REGS_USER: 1 << 12, STACK_USER: 1 << 13,
  WEIGHT: 1 << 14, DATA_SRC: 1 << 15, IDENTIFIER: 1 << 16, TRANSACTION: 1 << 17, REGS_INTR: 1 << 18,
  PHYS_ADDR: 1 << 19, AUX: 1 << 20, CGROUP: 1 << 21, DATA_PAGE_SIZE: 1 << 22, CODE_PAGE_SIZE: 1 << 23, WEIGHT_STRUCT: 1 << 24,
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
  /** Sampling events: precise_ip (0-3, skid constraint; hardware events only). */
  preciseIp?: number;
  /** Counting events read with read(2): the kernel appends enabled/running times (PERF_FORMAT_*). */
  readFormat?: number;
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
  v.setBigUint64(32, BigInt(a.readFormat ?? 0), true);
  let flags = 0n;
  if (a.disabled) flags |= 1n << 0n;
  if (a.inherit) flags |= 1n << 1n;
  if (a.excludeUser) flags |= 1n << 4n;
  if (a.excludeKernel) flags |= 1n << 5n;
  if (a.sampleFreq !== undefined) flags |= 1n << 10n;
  if (a.watermark) flags |= 1n << 14n;
  if (a.preciseIp) flags |= BigInt(a.preciseIp & 3) << 15n;
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
export function perfEventOpen(a: PerfEventAttr, pid: number, cpu: number, label: string, keepAlive?: unknown, groupFd = -1): Fd {
  const attr = encodePerfAttr(a);
  const { ret, errno } = rawPerfEventOpen(attr, pid, cpu, groupFd, PERF_FLAG_FD_CLOEXEC);
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

/** The current value of a counting perf event (read(2) of the fd without read_format extras). */
export function perfReadCounter(perfFd: number): bigint {
  const buf = new Uint8Array(8);
  const n = readFd(perfFd, buf);
  if (n !== 8) throw new SyscallError("read(perf counter)", 5 /* EIO */, `read ${n} of 8 bytes`);
  return new DataView(buf.buffer).getBigUint64(0, true);
}
