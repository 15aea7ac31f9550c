// Clear answers for features this kernel may lack, decided by trying (src/kernel/features.ts), with the
// alternative a BCC user can switch to.
import { AttachError } from "../link/index.js";
import { haveKprobes } from "../kernel/features.js";
import { ErrorCode } from "../errors.js";

export function kprobeUnsupported(fnName: string): AttachError {
  const fn = fnName.replace(/^k(?:ret)?probe__/, "");
  const sys = fn.match(/^(?:__x64_)?sys_(\w+)$/);
  const alt = sys
    ? `use the tracepoint instead: TRACEPOINT_PROBE(syscalls, sys_enter_${sys[1]}) (or sys_exit_${sys[1]} for return values)`
    : `use a tracepoint or raw tracepoint on the same event if one exists (BPF.getTracepoints("<category>:.*") lists them), or KFUNC_PROBE(${fn}) where fentry works`;
  const probe = haveKprobes();
  if (probe.supported) return new AttachError(`kprobe ${fn}`, "kprobes could not be used here; " + alt, { code: ErrorCode.NO_KPROBES });
  return new AttachError(`kprobe ${fn}`, `${probe.reason}; ${alt}`, { code: ErrorCode.NO_KPROBES });
}

/** A BTF-attached program (fentry/fexit/fmod_ret or LSM) the kernel refuses, with what to use instead. */
export function btfProgramUnsupported(kind: "kfunc" | "kretfunc" | "kmod_ret" | "lsm", target: string, reason: string, cause?: unknown): AttachError {
  const what = { kfunc: "fentry programs (KFUNC_PROBE) are", kretfunc: "fexit programs (KRETFUNC_PROBE) are",
    kmod_ret: "fmod_ret programs (KMOD_RET) are", lsm: "LSM programs (LSM_PROBE) are" }[kind];
  const alt = kind === "lsm"
    ? "this kernel needs CONFIG_BPF_LSM and \"bpf\" in its lsm= list; there is no tracing substitute for denying an operation"
    : kind === "kretfunc"
      ? `use kretprobe__${target} (PT_REGS_RC(ctx) for the return value) where kprobes work, or a tracepoint on the same event`
      : `use kprobe__${target} where kprobes work, or a tracepoint/raw tracepoint on the same event (BPF.getTracepoints() lists them)`;
  return new AttachError(`${kind} ${target}`, `${what} refused by this kernel (${reason}); ${alt}`, { cause, code: ErrorCode.NO_BTF_PROGRAMS });
}
