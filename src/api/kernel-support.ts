// Clear answers for features this kernel may lack, decided by trying (src/kernel/features.ts), with the
// alternative a BCC user can switch to.
import { AttachError } from "../link/index.js";
import { haveKprobes } from "../kernel/features.js";

export function kprobeUnsupported(fnName: string): AttachError {
  const fn = fnName.replace(/^k(?:ret)?probe__/, "");
  const sys = fn.match(/^(?:__x64_)?sys_(\w+)$/);
  const alt = sys
    ? `use the tracepoint instead: TRACEPOINT_PROBE(syscalls, sys_enter_${sys[1]}) (or sys_exit_${sys[1]} for return values)`
    : `use a tracepoint or raw tracepoint on the same event if one exists (tsbcc tplist), or KFUNC_PROBE(${fn}) where fentry works`;
  const probe = haveKprobes();
  if (probe.supported) return new AttachError(`kprobe ${fn}`, "kprobes could not be used here; " + alt);
  return new AttachError(`kprobe ${fn}`, `${probe.reason}; ${alt}`);
}
