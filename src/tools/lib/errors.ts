// The errors tools raise: a wrong command line (USAGE), a kernel with no way to observe what the tool measures
// (UNSUPPORTED, naming what it would need), and a tool's own embedded BPF program failing to build or load
// (the message says it is the tool's program, so it is not mistaken for the user's).
import { ErrorCode, TsbccError, type ErrorCodeName } from "../../errors.js";

/** The command line (or a library call's options) is wrong; `tool` names the tool. */
export class UsageError extends TsbccError {
  constructor(readonly tool: string, message: string) {
    super(ErrorCode.USAGE, message);
  }
}

/** None of the tool's event sources works on this kernel; `needs` says what would make it work. */
export class NoEventSourceError extends TsbccError {
  constructor(readonly tool: string, readonly reasons: string[], readonly needs: string) {
    super(ErrorCode.UNSUPPORTED,
      `${tool}: no usable event source on this kernel:\n${reasons.map((r) => `  - ${r}`).join("\n")}\n${tool} needs ${needs}`);
  }
}

/** The tool's embedded BPF program failed to compile, verify, load or attach; keeps the cause's code. */
export class ToolProgramError extends TsbccError {
  constructor(readonly tool: string, cause: unknown) {
    const code = (cause instanceof TsbccError ? cause.code : ErrorCode.COMPILE) as ErrorCodeName;
    const why = cause instanceof Error ? cause.message : String(cause);
    super(code, `${tool}: the tool's own BPF program (embedded in tsbcc's ${tool}) failed: ${why}`, { cause });
  }
}
