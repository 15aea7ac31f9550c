import { bpf, SyscallError } from "../sys/index.js";
import { AttachError, Link } from "./link.js";

/** Attaches a RAW_TRACEPOINT program by tracepoint name (e.g. "sched_switch"). */
export function attachRawTracepoint(progFd: number, name: string): Link {
  try {
    return new Link(`raw_tracepoint ${name}`, [bpf.rawTracepointOpen(name, progFd)]);
  } catch (e) {
    if (e instanceof SyscallError && e.errnoCode === "ENOENT") {
      throw new AttachError(`raw tracepoint ${name}`, "no such tracepoint in this kernel (list them under <tracefs>/events)", { cause: e });
    }
    if (e instanceof SyscallError) throw new AttachError(`raw tracepoint ${name}`, e.message, { cause: e });
    throw e;
  }
}

/** fentry/fexit/fmod_ret/LSM/tp_btf programs: the target was fixed at load time (attach_btf_id). */
export function attachBtfProgram(progFd: number, description: string): Link {
  try {
    return new Link(description, [bpf.rawTracepointOpen(null, progFd)]);
  } catch (e) {
    if (e instanceof SyscallError) throw new AttachError(description, e.message, { cause: e });
    throw e;
  }
}
