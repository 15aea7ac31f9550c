// Errors of the networking attachments: an AttachError (src/link/link.ts) whose stable code is chosen from what
// the kernel said (EPERM -> PERMISSION, a missing hook -> UNSUPPORTED, anything else -> ATTACH), with a hint in
// plain words and the errno of the failed syscall.
import { ErrorCode, type ErrorCodeName } from "../errors.js";
import { AttachError } from "../link/link.js";
import { SyscallError } from "../sys/index.js";

export class NetAttachError extends AttachError {
  readonly errno?: number;
  constructor(code: ErrorCodeName, target: string, problem: string, options?: { cause?: unknown }) {
    super(target, problem, { ...options, code });
    const cause = options?.cause;
    if (cause instanceof SyscallError) this.errno = cause.errno;
  }
}

/** Turns a failed syscall while attaching into a NetAttachError with a hint for the common errnos. */
export function attachFailure(target: string, e: unknown, hints: Partial<Record<string, string>> = {}): unknown {
  if (!(e instanceof SyscallError)) return e;
  const hint = hints[e.errnoCode];
  const text = hint ? `${hint} [${e.message}]` : e.message;
  if (e.errnoCode === "EPERM" || e.errnoCode === "EACCES") {
    const who = process.getuid?.() === 0 ? "refused by the kernel" : "needs root (CAP_NET_ADMIN and CAP_BPF)";
    return new NetAttachError(ErrorCode.PERMISSION, target, `${who} [${e.message}]`, { cause: e });
  }
  const code = e.errnoCode === "EOPNOTSUPP" || e.errnoCode === "ENOTSUP" ? ErrorCode.UNSUPPORTED : ErrorCode.ATTACH;
  return new NetAttachError(code, target, text, { cause: e });
}

/** Runs `fn`, turning syscall failures into NetAttachError for `target`. */
export function attaching<T>(target: string, fn: () => T, hints?: Partial<Record<string, string>>): T {
  try {
    return fn();
  } catch (e) {
    throw attachFailure(target, e, hints);
  }
}
