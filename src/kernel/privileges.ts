// Whether this process may trace at all, decided before anything else is tried: without root (or CAP_BPF and
// CAP_PERFMON) every later step fails with a misleading error (tracefs looks unmounted when it is mode 0700,
// map creation says EPERM). The capability set is the process's own fact, read from /proc/self/status.
import { readFileSync } from "node:fs";
import { ErrorCode, TsbccError } from "../errors.js";
import { Capability } from "../sys/abi.js";

/** Not allowed to trace: needs root or CAP_BPF + CAP_PERFMON. */
export class PrivilegeError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.PERMISSION, message);
  }
}

/** The effective capability mask (CapEff), or undefined when /proc cannot tell. */
export function effectiveCapabilities(status?: string): bigint | undefined {
  try {
    const text = status ?? readFileSync("/proc/self/status", "utf8");
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Capabilities that tracing needs and this process lacks ([] when it may trace, or when /proc cannot tell). */
export function missingTracingCapabilities(capEff = effectiveCapabilities()): string[] {
  if (capEff === undefined) return [];
  const has = (bit: number) => ((capEff >> BigInt(bit)) & 1n) === 1n;
  if (has(Capability.SYS_ADMIN)) return []; // before 5.8, and still: CAP_SYS_ADMIN implies both
  return [has(Capability.BPF) ? "" : "CAP_BPF", has(Capability.PERFMON) ? "" : "CAP_PERFMON"].filter(Boolean);
}

/** Throws PrivilegeError when this process cannot trace; `who` ("BPF.load") opens the message when given. */
export function requireTracingPrivileges(who?: string, capEff?: bigint): void {
  const missing = missingTracingCapabilities(capEff ?? effectiveCapabilities());
  if (missing.length === 0) return;
  throw new PrivilegeError(`${who ? `${who}: ` : ""}tracing needs root, or CAP_BPF and CAP_PERFMON (this process lacks ` +
    `${missing.join(" and ")}): run it with sudo, or grant the capabilities (setcap cap_bpf,cap_perfmon+ep on the node binary)`);
}
