// The part of BPF's API that needs no loaded object: BCC's class constants (program types, XDP flags, debug flags),
// feature probes and static queries of the running kernel, its symbols and user binaries. BPF extends this class,
// so they read as BPF.XDP, BPF.getSyscallFnName("getppid"), BPF.ksym(addr), as in BCC's Python API.
import { ProgType } from "../loader/index.js";
import { kprobeFunctions } from "../kernel/kprobe-functions.js";
import { numOpenProbes, probeLimit } from "./probe-quota.js";
import { listTracepoints, tracepointExists } from "../kernel/tracefs.js";
import { kernelEnumHasVal, kernelStructHasField } from "../kernel/btf.js";
import { fixSyscallFnName, syscallFnName, syscallPrefix } from "../kernel/syscalls.js";
import { haveKprobes, haveFentry, haveFmodRet, haveLsm, haveRawTracepoints, haveRawTracepointsInModules } from "../kernel/features.js";
import { ArgumentError, patternArgument } from "../errors.js";
import { defaultSymbolizer, type SymOptions } from "../symbols/index.js";
import { numOpenUprobes } from "../link/index.js";
import { findExecutable, findLibrary, resolveBinary } from "../symbols/libraries.js";
import { matchUserFunctions, type UserFunction } from "../symbols/resolve.js";
import { XdpFlags } from "../sys/abi.js";

export class BPFClassApi {
  /** Only BPF (its subclass) is ever constructed. */
  protected constructor() {}

  static readonly SOCKET_FILTER = ProgType.SOCKET_FILTER;
  static readonly KPROBE = ProgType.KPROBE;
  static readonly SCHED_CLS = ProgType.SCHED_CLS;
  static readonly SCHED_ACT = ProgType.SCHED_ACT;
  static readonly TRACEPOINT = ProgType.TRACEPOINT;
  static readonly XDP = ProgType.XDP;
  static readonly PERF_EVENT = ProgType.PERF_EVENT;
  static readonly CGROUP_SKB = ProgType.CGROUP_SKB;
  static readonly RAW_TRACEPOINT = ProgType.RAW_TRACEPOINT;
  static readonly TRACING = ProgType.TRACING;
  static readonly LSM = ProgType.LSM;
  static readonly CGROUP_SOCK = ProgType.CGROUP_SOCK;
  static readonly LWT_IN = ProgType.LWT_IN;
  static readonly LWT_OUT = ProgType.LWT_OUT;
  static readonly LWT_XMIT = ProgType.LWT_XMIT;
  static readonly SOCK_OPS = ProgType.SOCK_OPS;
  static readonly SK_SKB = ProgType.SK_SKB;
  static readonly CGROUP_DEVICE = ProgType.CGROUP_DEVICE;
  static readonly SK_MSG = ProgType.SK_MSG;
  static readonly CGROUP_SOCK_ADDR = ProgType.CGROUP_SOCK_ADDR;
  static readonly CGROUP_SOCKOPT = ProgType.CGROUP_SOCKOPT;
  static readonly CGROUP_SYSCTL = ProgType.CGROUP_SYSCTL;
  static readonly XDP_FLAGS_UPDATE_IF_NOEXIST = XdpFlags.UPDATE_IF_NOEXIST;
  static readonly XDP_FLAGS_SKB_MODE = XdpFlags.SKB_MODE;
  static readonly XDP_FLAGS_DRV_MODE = XdpFlags.DRV_MODE;
  static readonly XDP_FLAGS_HW_MODE = XdpFlags.HW_MODE;
  static readonly XDP_FLAGS_REPLACE = XdpFlags.REPLACE;
  /** BCC's debug flags. LLVM_IR, SOURCE and BTF have no effect (clang runs out of process; the object is kept). */
  static readonly DEBUG_LLVM_IR = 1;
  static readonly DEBUG_BPF = 2;
  static readonly DEBUG_PREPROCESSOR = 4;
  static readonly DEBUG_SOURCE = 8;
  static readonly DEBUG_BPF_REGISTER_STATE = 0x10;
  static readonly DEBUG_BTF = 0x20;

  /** Feature probes (decided by trying, cached): BCC's support_kfunc() & co. */
  static supportKprobes(): boolean { return haveKprobes().supported; }
  static supportKfunc(): boolean { return haveFentry().supported; }
  static supportLsm(): boolean { return haveLsm().supported; }
  static supportRawTracepoint(): boolean { return haveRawTracepoints().supported; }
  static supportFmodRet(): boolean { return haveFmodRet().supported; }
  static supportRawTracepointInModule(): boolean { return haveRawTracepointsInModules().supported; }

  /** BCC's get_kprobe_functions: traceable kernel functions whose whole name matches `re`. */
  static getKprobeFunctions(re: string | RegExp): string[] {
    return kprobeFunctions(re);
  }
  static getProbeLimit(): number {
    return probeLimit();
  }
  /** Open kprobes of every BPF object in this process (the quota's count). */
  static numOpenKprobes(): number {
    return numOpenProbes();
  }

  /** The prefix this kernel's syscall entry functions carry ("__x64_sys_" on x86_64 since 4.17, else "sys_"). */
  static getSyscallPrefix(): string { return syscallPrefix(); }
  /** The kernel function behind syscall `name` ("getppid" -> "__x64_sys_getppid"): BCC's get_syscall_fnname. */
  static getSyscallFnName(name: string): string { return syscallFnName(name); }
  /** BCC's fix_syscall_fnname: a name written for one syscall prefix, spelled for this kernel's. */
  static fixSyscallFnName(name: string): string { return fixSyscallFnName(name); }
  /** BCC's tracepoint_exists(category, event). */
  static tracepointExists(category: string, event: string): boolean { return tracepointExists(category, event); }
  /** BCC's get_tracepoints(tp_re): every "category:event" matching `re` (from the start), or all. */
  static getTracepoints(re?: string | RegExp): string[] { return listTracepoints(re === undefined ? undefined : patternArgument("re", re, "start")); }
  /** BCC's kernel_enum_has_val: whether an enum of the running kernel named `enumName` has enumerator `value`. */
  static kernelEnumHasVal(enumName: string, value: string): boolean { return kernelEnumHasVal(enumName, value); }
  /** BCC's kernel_struct_has_field: whether the running kernel's `struct <name>` has member `field` (from BTF). */
  static kernelStructHasField(structName: string, field: string): boolean { return kernelStructHasField(structName, field); }
  /** BCC's monotonic_time: CLOCK_MONOTONIC in nanoseconds, the clock of bpf_ktime_get_ns(). */
  static monotonicTime(): bigint { return process.hrtime.bigint(); }

  // ---- Symbols: thin delegation to src/symbols/ (one process-wide Symbolizer) ----
  /** Kernel address -> "name[+0xoff][ [module]]" or "[unknown]" (BCC's BPF.ksym). */
  static ksym(addr: bigint | number, opts?: { showModule?: boolean; showOffset?: boolean }): string {
    return defaultSymbolizer().ksym(addr, opts);
  }
  /** Kernel symbol -> address, -1n when unknown (BCC's BPF.ksymname). */
  static ksymname(name: string): bigint { return defaultSymbolizer().ksymname(name); }
  /** Address in `pid` (negative: kernel) -> "name[+0xoff][ [module]]" or "[unknown]" (BCC's BPF.sym). */
  static sym(addr: bigint | number, pid: number, opts?: SymOptions): string { return defaultSymbolizer().sym(addr, pid, opts); }
  /** Registers a file for build-id stacks (BCC's add_module); returns its build-id. */
  static addModule(path: string): string { return defaultSymbolizer().addModule(path); }
  /** Captures `pid`'s mappings now so its stacks still symbolize after it exits. */
  static rememberProcess(pid: number, opts: { loadSymbols?: boolean } = {}): boolean {
    return defaultSymbolizer().rememberProcess(pid, opts);
  }

  // ---- User binaries and uprobes ----
  /** uprobes (USDT locations included) open in this process. */
  static numOpenUprobes(): number { return numOpenUprobes(); }
  /** BCC's find_library: the file of library `name` ("c" -> /lib/.../libc.so.6), or undefined. */
  static findLibrary(name: string, pid?: number): string | undefined { return findLibrary(name, pid); }
  /** BCC's find_exe: `name` if it is a path to an executable file, else the first executable `name` on PATH. */
  static findExe(name: string): string | undefined {
    if (typeof name !== "string" || name === "") throw new ArgumentError("name", "must be a non-empty program name or path");
    return findExecutable(name);
  }
  /** BCC's get_user_functions: names of `name`'s functions whose whole name matches `re`. */
  static getUserFunctions(name: string, re: string | RegExp): string[] { return matchUserFunctions(resolveBinary(name), re).map((f) => f.name); }
  /** BCC's get_user_addresses: their file offsets (what a uprobe is placed at), with names and link-time addresses. */
  static getUserAddresses(name: string, re: string | RegExp): UserFunction[] { return matchUserFunctions(resolveBinary(name), re); }
}
