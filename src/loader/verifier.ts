// Loading a program: first without a verifier log (fast, and the common case succeeds), then on failure
// again with a log that grows on ENOSPC, so the error can show the verifier's reasoning and point at the
// user's source line.
import { ErrorCode, TsbccError } from "../errors.js";
import { bpf, errnoName } from "../sys/index.js";
import type { Fd } from "../sys/index.js";

export interface SourceLine {
  file: string;
  line: number;
  column: number;
  text: string;
}

/** The kernel rejected a program. `log` is the full verifier log; the message shows its last lines. */
export class VerifierError extends TsbccError {
  readonly program: string;
  readonly errno: number;
  readonly log: string;
  readonly source?: SourceLine;
  constructor(program: string, errno: number, log: string, source?: SourceLine, hint?: string) {
    const lines = log.trimEnd().split("\n");
    const tail = lines.slice(-4).map((l) => `    ${l}`).join("\n");
    const where = source ? `\n  at ${source.file}:${source.line}:${source.column}\n    ${source.text.trim()}` : "";
    super(ErrorCode.VERIFIER,
      `the kernel verifier rejected program "${program}" (${errnoName(errno)})${where}\n  verifier log (last lines):\n${tail}` +
        (hint ? `\n  hint: ${hint}` : "") + `\n  (full log in error.log)`,
    );
    this.program = program;
    this.errno = errno;
    this.log = log;
    this.source = source;
  }
}

/** A load failed for a reason other than the verifier (EPERM, EINVAL on attributes, ...). */
export class ProgramLoadError extends TsbccError {
  readonly program: string;
  readonly errno: number;
  constructor(program: string, errno: number, hint: string) {
    super(ErrorCode.PROGRAM_LOAD, `loading program "${program}" failed: ${errnoName(errno)}: ${hint}`);
    this.program = program;
    this.errno = errno;
  }
}

const EPERM = 1, EINVAL = 22, ENOSPC = 28, E2BIG = 7, EAGAIN = 11;
const MAX_LOG = 1 << 30;

/**
 * The verifier's verdict: the last lines of the log that are not statistics or register-state dumps. Hints are
 * matched against these only, since a log's earlier register states mention "map_value_or_null" and the like
 * whatever the program's actual fault is.
 */
export function verdictLines(log: string): string {
  const lines = log.trimEnd().split("\n").filter((l) => l.trim() !== "" &&
    !/^(processed \d+ insns|verification time|stack depth|mark_precise|last_idx|regs=|parent didn't have regs)/.test(l.trim()));
  const verdict: string[] = [];
  for (let i = lines.length - 1; i >= 0 && verdict.length < 2; i--) {
    const l = lines[i]!;
    if (/^\d+: \([0-9a-f]{2}\)/.test(l) || /^;/.test(l.trim()) || /^from \d+ to \d+:/.test(l)) break; // an instruction: the verdict is below
    verdict.unshift(l);
  }
  return verdict.join("\n");
}

/** Hints for well-known verifier verdicts (facts about the verifier; wording ours). */
export function hintFor(log: string): string | undefined {
  const v = verdictLines(log);
  if (/too complex|BPF program is too large|program is too large/.test(v)) {
    return /too large/.test(v)
      ? "the verifier's budget of 1,000,000 instructions ran out: lower loop bounds, fewer branches in loops, or split the work with tail calls"
      : "the verifier gave up on the number of paths or jumps: lower loop bounds, move branches out of loops, or split the work with tail calls";
  }
  if (/invalid mem access '(inv|scalar)'/.test(v)) {
    return "a pointer was dereferenced that the verifier cannot prove valid; read kernel memory with bpf_probe_read_kernel()";
  }
  if (/_or_null/.test(v)) return "check the result of a map lookup for NULL before using it";
  if (/invalid (indirect read from )?stack|invalid stack off|stack depth|combined stack size/.test(v)) {
    return "the BPF stack is 512 bytes; use a per-CPU array map for large buffers";
  }
  if (/unknown func|invalid func/.test(v)) return "this kernel lacks a helper the program calls";
  if (/back-edge|infinite loop/.test(v)) return "loops must be bounded so the verifier can prove they end";
  if (/R\d+ !read_ok/.test(v)) return "a register is read before it is written (an uninitialized variable?)";
  return undefined;
}

/** Index of the instruction the verifier stopped at: the last "N: (op) ..." line of the log. */
export function failingInstruction(log: string): number | undefined {
  const m = [...log.matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)];
  return m.length ? Number(m[m.length - 1][1]) : undefined;
}

export interface LoadRequest {
  name: string;
  attr: bpf.ProgLoadAttr;
  /** Forces a log even on success (BCC's debug flags); 1 = verifier, 2 = verbose register states. */
  logLevel?: number;
  /** Maps an instruction index to a source line (from BTF line_info), for the error message. */
  sourceOf?: (insn: number) => SourceLine | undefined;
}

export function loadProgram(req: LoadRequest): { fd: Fd; log?: string } {
  const { name } = req;
  let attr = req.attr;
  let first = bpf.progLoad(req.logLevel ? { ...attr, logLevel: req.logLevel, logBuf: new Uint8Array(1 << 20) } : attr);
  // The kernel's name limit is 15 bytes plus NUL; old kernels reject names with some characters.
  if (!first.fd && (first.errno === EINVAL || first.errno === E2BIG) && attr.name) {
    const retry = bpf.progLoad({ ...attr, name: "" });
    if (retry.fd) return { fd: retry.fd };
  }
  for (let tries = 0; !first.fd && first.errno === EAGAIN && tries < 5; tries++) first = bpf.progLoad(attr);
  if (first.fd) return { fd: first.fd };
  const errno = first.errno;
  let size = Math.max(1 << 16, first.logTrueSize || 0);
  let log = "";
  let lastErrno = errno;
  for (;;) {
    const buf = new Uint8Array(size);
    attr = { ...req.attr, logLevel: req.logLevel ?? 1, logBuf: buf };
    const res = bpf.progLoad(attr);
    if (res.fd) return { fd: res.fd, log: decodeLog(buf) }; // Flaky first failure; the second load worked.
    log = decodeLog(buf);
    lastErrno = res.errno;
    if (res.errno === ENOSPC && size < MAX_LOG) {
      size = Math.min(MAX_LOG, Math.max(size * 4, res.logTrueSize));
      continue;
    }
    break;
  }
  if (log.trim() === "") {
    if (lastErrno === EPERM) {
      throw new ProgramLoadError(name, lastErrno,
        process.getuid?.() === 0
          ? "the kernel refused this program type or attach target (lockdown, missing kernel support, or a security module); run as root is not the issue"
          : "loading BPF programs needs root (or CAP_BPF + CAP_PERFMON); run with sudo");
    }
    throw new ProgramLoadError(name, lastErrno, "the kernel rejected the program's attributes (program type, attach type or target)");
  }
  const insn = failingInstruction(log);
  const source = insn !== undefined ? req.sourceOf?.(insn) : undefined;
  throw new VerifierError(name, lastErrno, log, source, hintFor(log));
}

function decodeLog(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? buf.subarray(0, end) : buf);
}
