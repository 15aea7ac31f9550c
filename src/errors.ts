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
  /** The call does not fit the object's state (a reader already open, nothing attached, nothing open to poll). */
  STATE: "STATE",
  /** A kernel file or record had content tsbcc cannot read (e.g. a corrupt perf record, an unparsable CPU list). */
  KERNEL_DATA: "KERNEL_DATA",
  /** A pinned object path is unusable (not on bpffs, or holds an incompatible map). */
  PIN: "PIN",
  /** A tool's command line was wrong. */
  USAGE: "USAGE",
  /** clang or an LLVM tool is missing, crashed (message names the signal and its stderr) or failed without diagnostics. */
  CLANG: "CLANG",
  /** A private cache directory cannot be used safely (normally only a warning: the cache is bypassed). */
  CACHE: "CACHE",
  /** A library name that neither the process's mappings nor the linker cache (ld.so.cache) resolve. */
  NO_SUCH_LIBRARY: "NO_SUCH_LIBRARY",
  /** A symbol that is not in the binary's symbol tables (message suggests close names). */
  NO_SUCH_SYMBOL: "NO_SUCH_SYMBOL",
  /** The binary has no symbol table (stripped) and the symbol is not exported. */
  NO_SYMBOLS: "NO_SYMBOLS",
  /** The process does not exist (or exited). */
  NO_SUCH_PROCESS: "NO_SUCH_PROCESS",
  /** A USDT probe that the binary (or process) does not have. */
  NO_SUCH_PROBE: "NO_SUCH_PROBE",
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

/** No table (map) of that name; `available` lists the names there are. */
export class NoSuchTableError extends TsbccError {
  constructor(readonly table: string, readonly available: string[], what = "table") {
    super(ErrorCode.NO_SUCH_TABLE, `no ${what} named "${table}" (${what}s: ${available.join(", ") || "none"})`);
  }
}

/** No program function of that name; `available` lists the functions there are. */
export class NoSuchFunctionError extends TsbccError {
  constructor(readonly function_: string, readonly available: string[], detail = `no function "${function_}" in this program`) {
    super(ErrorCode.NO_SUCH_FUNCTION, `${detail} (functions: ${available.join(", ") || "none"})`);
  }
}

/** The object (BPF, table, reader, link, fd) was closed. */
export class ClosedError extends TsbccError {
  constructor(what: string) {
    super(ErrorCode.CLOSED, `${what} is closed`);
  }
}

/** What was asked for is not available here (kernel feature, map type, platform); the message says which. */
export class UnsupportedError extends TsbccError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.UNSUPPORTED, message, options);
  }
}

/** A pattern argument as a RegExp anchored like BCC anchors it (`re.match`: at the start; `fullmatch`: both ends). */
export function patternArgument(argument: string, re: string | RegExp, anchor: "start" | "whole"): RegExp {
  const source = typeof re === "string" ? re : re.source;
  const flags = typeof re === "string" ? "" : re.flags.replace(/[gy]/g, "");
  try {
    return new RegExp(anchor === "start" ? `^(?:${source})` : `^(?:${source})$`, flags);
  } catch (e) {
    throw new ArgumentError(argument, `not a valid regular expression: ${(e as Error).message}`);
  }
}
