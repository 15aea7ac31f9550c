// The one base class of every error tsbcc raises. Callers branch on `code` (stable, documented in
// docs/API.md) rather than on class names or message text, which may be reworded.

/** Stable error codes. A new code is added here before it is used, so the list is the whole vocabulary. */
export const ErrorCode = {
  /** Wrong argument to a public call (type, range, shape); nothing was created. */
  BAD_ARGUMENT: "BAD_ARGUMENT",
  /** The BCC C program did not compile (clang or dialect rewriter); message names the user's file:line. */
  COMPILE: "COMPILE",
  /** The kernel verifier rejected a program; message names the user's source line. */
  VERIFIER: "VERIFIER",
  /** Loading a program failed for a reason other than the verifier (e.g. EINVAL on attributes). */
  PROGRAM_LOAD: "PROGRAM_LOAD",
  /** Creating or opening a map failed. */
  MAP_CREATE: "MAP_CREATE",
  /** A malformed ELF file or BPF object. */
  BAD_ELF: "BAD_ELF",
  /** Malformed or inconsistent BTF. */
  BAD_BTF: "BAD_BTF",
  /** No table/map of that name in the program. */
  NO_SUCH_TABLE: "NO_SUCH_TABLE",
  /** No program function of that name. */
  NO_SUCH_FUNCTION: "NO_SUCH_FUNCTION",
  /** A key or value that does not fit the table's types, or a missing key. */
  TABLE_KEY: "TABLE_KEY",
  TABLE_VALUE: "TABLE_VALUE",
  /** Attaching a program failed (unknown target, already attached, kernel refused). */
  ATTACH: "ATTACH",
  /** Unknown tracepoint (message suggests close names). */
  NO_SUCH_TRACEPOINT: "NO_SUCH_TRACEPOINT",
  /** tracefs missing or unusable. */
  TRACEFS: "TRACEFS",
  /** The kernel lacks kprobes (CONFIG_KPROBES); message names the alternative. */
  NO_KPROBES: "NO_KPROBES",
  /** The kernel refuses fentry/fexit/LSM (BTF programs); message names the alternative. */
  NO_BTF_PROGRAMS: "NO_BTF_PROGRAMS",
  /** A kernel feature this call needs is missing (probed by trying). */
  UNSUPPORTED: "UNSUPPORTED",
  /** Not allowed: needs root or CAP_BPF/CAP_PERFMON. */
  PERMISSION: "PERMISSION",
  /** A syscall failed in a way no more specific code describes; `errno` says which. */
  SYSCALL: "SYSCALL",
  /** The object was closed and cannot be used. */
  CLOSED: "CLOSED",
  /** A tool's command line was wrong. */
  USAGE: "USAGE",
  /** A server (Prometheus metrics, the live page) could not listen on its address. */
  LISTEN: "LISTEN",
} as const;
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export class TsbccError extends Error {
  readonly code: ErrorCodeName;
  constructor(code: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Wrong input to a public call; `argument` names the parameter, as the message does. */
export class ArgumentError extends TsbccError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(ErrorCode.BAD_ARGUMENT, `${argument}: ${message}`);
    this.argument = argument;
  }
}
