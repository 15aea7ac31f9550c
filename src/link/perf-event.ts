// Perf events that run a PERF_EVENT program on sampling (profile-style: cpu-clock at 49 Hz, page faults every N)
// and counting perf events stored in a BPF_PERF_ARRAY for perf_read / perf_counter_value. One event per CPU
// unless a CPU is named; the kernel drops them when their fds close or the process dies.
import { bpf, perf, SyscallError, type Fd } from "../sys/index.js";
import { onlineCpus } from "../kernel/cpus.js";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { MapType } from "../sys/abi.js";
import { existsSync } from "node:fs";
import { Link } from "./link.js";

export interface PerfEventOptions {
  /** PerfType (HARDWARE, SOFTWARE, ...). */
  evType: number;
  /** PerfHWConfig / PerfSWConfig value for that type. */
  evConfig: number;
  /** Run the program every N events (exactly one of samplePeriod / sampleFreq). */
  samplePeriod?: number;
  /** ... or N times a second (the kernel adjusts the period). */
  sampleFreq?: number;
  /** Only this process (and its children); all processes otherwise. */
  pid?: number;
  /** Only this CPU; every online CPU otherwise. */
  cpu?: number;
  /** Perf event group leader fd. */
  groupFd?: number;
  /** perf_event_attr bits BCC's attach_perf_event_raw lets the caller set: skip samples taken in user / kernel mode. */
  excludeUser?: boolean;
  excludeKernel?: boolean;
  /** precise_ip (0-3): skid constraint of hardware sampling events. */
  preciseIp?: number;
}

const TYPE_NAMES = ["hardware", "software", "tracepoint", "hw-cache", "raw", "breakpoint"];

function describe(o: { evType: number; evConfig: number }): string {
  return `perf event ${TYPE_NAMES[o.evType] ?? `type ${o.evType}`}:${o.evConfig}`;
}

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new ArgumentError(name, `must be an integer >= ${min}, got ${v}`);
}

/** Validates the options shared by sampling and counting events; returns the CPUs to open on. */
function cpusFor(pid: number | undefined, cpu: number | undefined): number[] {
  checkInt("pid", pid, -1);
  checkInt("cpu", cpu, -1);
  if (pid !== undefined && pid > 0 && !existsSync(`/proc/${pid}`)) throw new TsbccError(ErrorCode.NO_SUCH_PROCESS, `pid: no process ${pid}`);
  const online = onlineCpus();
  if (cpu !== undefined && cpu >= 0) {
    if (!online.includes(cpu)) throw new ArgumentError("cpu", `CPU ${cpu} is not online (online: ${online.join(",")})`);
    return [cpu];
  }
  return online;
}

function openError(what: string, e: SyscallError, o: { evType: number }): TsbccError {
  if (e.errnoCode === "ENOENT" || e.errnoCode === "EOPNOTSUPP" || (e.errnoCode === "EINVAL" && o.evType === perf.PerfType.HARDWARE)) {
    return new TsbccError(ErrorCode.UNSUPPORTED, `cannot open ${what}: this machine has no such event ` +
      `(${o.evType === perf.PerfType.HARDWARE || o.evType === perf.PerfType.HW_CACHE ? "no hardware PMU counters here, e.g. a VM without PMU passthrough; use a software event such as CPU_CLOCK" : "unknown type or config"}) [${e.errnoCode}]`, { cause: e });
  }
  if (e.errnoCode === "EACCES" || e.errnoCode === "EPERM") return new TsbccError(ErrorCode.PERMISSION, `cannot open ${what}: not allowed (root or CAP_PERFMON) [${e.errnoCode}]`, { cause: e });
  if (e.errnoCode === "ESRCH") return new TsbccError(ErrorCode.NO_SUCH_PROCESS, `cannot open ${what}: no such process [${e.errnoCode}]`, { cause: e });
  return new TsbccError(ErrorCode.ATTACH, `cannot open ${what}: ${e.message}`, { cause: e });
}

/** Opens the sampling events and attaches the PERF_EVENT program to each; one Link holds them all. */
export function attachPerfEvent(progFd: number, o: PerfEventOptions): Link {
  checkInt("evType", o.evType, 0);
  checkInt("evConfig", o.evConfig, 0);
  checkInt("samplePeriod", o.samplePeriod, 0);
  checkInt("sampleFreq", o.sampleFreq, 0);
  checkInt("groupFd", o.groupFd, -1);
  if (o.preciseIp !== undefined && !(Number.isInteger(o.preciseIp) && o.preciseIp >= 0 && o.preciseIp <= 3)) {
    throw new ArgumentError("preciseIp", `must be 0, 1, 2 or 3, got ${o.preciseIp}`);
  }
  if (!!o.samplePeriod === !!o.sampleFreq) throw new ArgumentError("samplePeriod", "give exactly one of samplePeriod or sampleFreq (> 0)");
  const pid = o.pid !== undefined && o.pid > 0 ? o.pid : -1;
  const cpus = cpusFor(o.pid, o.cpu);
  const what = describe(o);
  const fds: Fd[] = [];
  try {
    for (const cpu of cpus) {
      let fd: Fd;
      try {
        fd = perf.perfEventOpen({
          type: o.evType, config: o.evConfig, ...(o.sampleFreq ? { sampleFreq: o.sampleFreq } : { samplePeriod: o.samplePeriod }),
          inherit: pid > 0, disabled: true, excludeUser: o.excludeUser, excludeKernel: o.excludeKernel, preciseIp: o.preciseIp,
        }, pid, cpu, `${what} cpu ${cpu}`, undefined, o.groupFd ?? -1);
      } catch (e) {
        if (e instanceof SyscallError) throw openError(what, e, o);
        throw e;
      }
      fds.push(fd);
      perf.perfSetBpf(fd.value, progFd);
      perf.perfEnable(fd.value);
    }
  } catch (e) {
    for (const fd of fds) fd.close();
    if (e instanceof SyscallError) throw new TsbccError(ErrorCode.ATTACH, `cannot attach to ${what}: ${e.message}`, { cause: e });
    throw e;
  }
  return new Link(`${what}${pid > 0 ? ` pid ${pid}` : ""}`, fds);
}

/**
 * BCC's PerfEventArray.open_perf_event: a counting event per CPU stored at key = CPU of a BPF_PERF_ARRAY, for
 * the program's `table.perf_read(CUR_CPU_IDENTIFIER)` / `perf_counter_value`. Closing the link closes them
 * (the map keeps no reference; its slots are cleared by the kernel when the fds go).
 */
export function openPerfCounters(mapFd: number, o: { evType: number; evConfig: number; pid?: number }): Link {
  checkInt("evType", o.evType, 0);
  checkInt("evConfig", o.evConfig, 0);
  const pid = o.pid !== undefined && o.pid > 0 ? o.pid : -1;
  const cpus = cpusFor(o.pid, undefined);
  const what = describe(o);
  const info = new Uint8Array(80);
  try {
    bpf.objInfo(mapFd, info);
  } catch (e) {
    throw new ArgumentError("mapFd", `not a BPF map fd (${(e as Error).message})`);
  }
  const view = new DataView(info.buffer);
  if (view.getUint32(0, true) !== MapType.PERF_EVENT_ARRAY) throw new ArgumentError("table", "must be a BPF_PERF_ARRAY (perf event array)");
  const slots = view.getUint32(16, true);
  if (cpus.some((c) => c >= slots)) throw new ArgumentError("table", `has ${slots} slots, too few for CPU ${Math.max(...cpus)}`);
  const fds: Fd[] = [];
  const key = new Uint8Array(4);
  const value = new Uint8Array(4);
  try {
    for (const cpu of cpus) {
      let fd: Fd;
      try {
        fd = perf.perfEventOpen({ type: o.evType, config: o.evConfig }, pid, cpu, `${what} cpu ${cpu}`);
      } catch (e) {
        if (e instanceof SyscallError) throw openError(what, e, o);
        throw e;
      }
      fds.push(fd);
      new DataView(key.buffer).setUint32(0, cpu, true);
      new DataView(value.buffer).setUint32(0, fd.value, true);
      bpf.mapUpdate(mapFd, key, value, 0);
    }
  } catch (e) {
    for (const fd of fds) fd.close();
    if (e instanceof SyscallError) throw new TsbccError(ErrorCode.ATTACH, `cannot store ${what} in the perf array: ${e.message}`, { cause: e });
    throw e;
  }
  return new Link(`${what} counters`, fds);
}
