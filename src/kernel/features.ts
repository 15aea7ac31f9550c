// Kernel features, decided by trying the real thing once (a tiny program load, a map create, a probe open)
// and cached for the life of the process. Never by kernel version or symbol names: backports and config
// options make those lie (a kernel can list fentry symbols and still refuse fentry loads).
import { existsSync, readFileSync } from "node:fs";
import { addressOf, bpf, errnoName, perf } from "../sys/index.js";
import { vmlinuxBtf } from "./btf.js";
import { AttachType, BpfHelper, MapType, ProgType, progTypeName } from "../sys/abi.js";

export interface FeatureResult {
  supported: boolean;
  /** Why not (the errno or missing file), for skip messages and errors. */
  reason: string;
}

const cache = new Map<string, FeatureResult>();

/** Runs `probe` once per name; a thrown error counts as "not supported" with the error as the reason. */
export function probeFeature(name: string, probe: () => FeatureResult): FeatureResult {
  let r = cache.get(name);
  if (!r) {
    try {
      r = probe();
    } catch (e) {
      r = { supported: false, reason: e instanceof Error ? e.message : String(e) };
    }
    cache.set(name, r);
  }
  return r;
}

const yes: FeatureResult = { supported: true, reason: "" };
// mov r0, 0; exit
const RETURN_ZERO = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

function tryLoad(progType: number, extra: Partial<bpf.ProgLoadAttr> = {}): FeatureResult {
  const res = bpf.progLoad({ progType, insns: RETURN_ZERO, license: "GPL", ...extra });
  if (res.fd) {
    res.fd.close();
    return yes;
  }
  return { supported: false, reason: `loading a ${progTypeName(progType)} program fails with ${errnoName(res.errno)}` };
}

export function haveProgramType(progType: number): FeatureResult {
  return probeFeature(`prog:${progType}`, () => tryLoad(progType));
}

export function haveMapType(mapType: number): FeatureResult {
  return probeFeature(`map:${mapType}`, () => {
    const ringish = mapType === MapType.RINGBUF || mapType === MapType.USER_RINGBUF;
    const noKey = ringish || mapType === MapType.QUEUE || mapType === MapType.STACK;
    bpf.mapCreate({ mapType, keySize: noKey ? 0 : 4, valueSize: ringish ? 0 : 4, maxEntries: ringish ? 4096 : 1 }).close();
    return yes;
  });
}

export function haveBtf(): FeatureResult {
  return probeFeature("btf", () =>
    existsSync("/sys/kernel/btf/vmlinux") ? yes : { supported: false, reason: "/sys/kernel/btf/vmlinux is missing (kernel built without CONFIG_DEBUG_INFO_BTF)" });
}

/** kprobes: the kprobe PMU must exist and accept a probe on a function every kernel has. */
export function haveKprobes(): FeatureResult {
  return probeFeature("kprobes", () => {
    const typePath = "/sys/bus/event_source/devices/kprobe/type";
    if (!existsSync(typePath)) {
      const tracefsKprobes = ["/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"].some((p) => existsSync(p));
      return tracefsKprobes ? yes : { supported: false, reason: "this kernel has no kprobes (no kprobe PMU and no kprobe_events: built without CONFIG_KPROBES)" };
    }
    const type = Number(readFileSync(typePath, "utf8").trim());
    const name = new TextEncoder().encode("schedule\0");
    const fd = perf.perfEventOpen({ type, config1: addressOfName(name), config2: 0n }, -1, 0, "kprobe probe", name);
    fd.close();
    return yes;
  });
}

function addressOfName(buf: Uint8Array): bigint {
  return addressOf(buf);
}

export { vmlinuxBtf };

/** Loads a BTF-attached program of `progType`/`attachType` on the first of `targets` the kernel's BTF has. */
function tryBtfProgram(feature: string, targets: string[], progType: number, attachType: number, missing: string): FeatureResult {
  return probeFeature(feature, () => {
    if (!haveBtf().supported) return haveBtf();
    const btf = vmlinuxBtf();
    const target = targets.map((t) => btf.findIds("func", t)[0]).find((id) => id !== undefined);
    if (!target) return { supported: false, reason: missing };
    return tryLoad(progType, { expectedAttachType: attachType, attachBtfId: target });
  });
}

/** fentry/fexit: load a TRACING program on a kernel function found in BTF. */
export function haveFentry(): FeatureResult {
  return tryBtfProgram("fentry", ["bpf_fentry_test1", "do_nanosleep"], ProgType.TRACING, AttachType.TRACE_FENTRY,
    "no fentry test target in the kernel's BTF");
}

/** fmod_ret: load a TRACING program that modifies the return of the kernel's own test target. */
export function haveFmodRet(): FeatureResult {
  return tryBtfProgram("fmod_ret", ["bpf_modify_return_test"], ProgType.TRACING, AttachType.MODIFY_RETURN,
    "no fmod_ret test target (bpf_modify_return_test) in the kernel's BTF");
}

/** LSM programs: load one on the bpf_lsm_file_open hook. */
export function haveLsm(): FeatureResult {
  return tryBtfProgram("lsm", ["bpf_lsm_file_open"], ProgType.LSM, AttachType.LSM_MAC, "the kernel has no BPF LSM hooks (CONFIG_BPF_LSM unset)");
}

/**
 * Raw tracepoints defined by modules (kernel >= 5.7): the kernel keeps a list of module tracepoints for BPF,
 * visible as the `bpf_trace_modules` symbol (the fact BCC checks too).
 */
export function haveRawTracepointsInModules(): FeatureResult {
  return probeFeature("raw_tp_modules", () => {
    if (!existsSync("/proc/modules")) return { supported: false, reason: "the kernel has no loadable modules (CONFIG_MODULES unset)" };
    let syms = "";
    try {
      syms = readFileSync("/proc/kallsyms", "utf8");
    } catch (e) {
      return { supported: false, reason: `cannot read /proc/kallsyms: ${(e as Error).message}` };
    }
    return /\sbpf_trace_modules$/m.test(syms) ? yes : { supported: false, reason: "the kernel has no bpf_trace_modules (before 5.7)" };
  });
}

/**
 * bpf_override_return (helper 58): a kprobe program calling it loads only on kernels built with
 * CONFIG_BPF_KPROBE_OVERRIDE (which needs CONFIG_FUNCTION_ERROR_INJECTION).
 */
export function haveOverrideReturn(): FeatureResult {
  return probeFeature("override_return", () => {
    if (!haveKprobes().supported) return { supported: false, reason: `no kprobes: ${haveKprobes().reason}` };
    const insns = new Uint8Array([
      0xb7, 0x02, 0, 0, 0, 0, 0, 0, // r2 = 0 (r1 is the context)
      0x85, 0, 0, 0, BpfHelper.override_return, 0, 0, 0, // call bpf_override_return
      0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0, // r0 = 0; exit
    ]);
    const logBuf = new Uint8Array(4096);
    const res = bpf.progLoad({ progType: ProgType.KPROBE, insns, license: "GPL", logLevel: 1, logBuf });
    if (res.fd) {
      res.fd.close();
      return yes;
    }
    const end = logBuf.indexOf(0);
    const log = new TextDecoder().decode(logBuf.subarray(0, end < 0 ? logBuf.length : end));
    const line = log.split("\n").find((l) => /unknown func|invalid func|not allowed/.test(l))?.trim();
    return {
      supported: false,
      reason: `a kprobe program calling bpf_override_return fails to load with ${errnoName(res.errno)}` +
        (line ? ` ("${line}")` : "") + ": the kernel lacks CONFIG_BPF_KPROBE_OVERRIDE",
    };
  });
}

export function haveRawTracepoints(): FeatureResult {
  return haveProgramType(ProgType.RAW_TRACEPOINT);
}

/** Forget cached answers (tests). */
export function resetFeatureCache(): void {
  cache.clear();
}
