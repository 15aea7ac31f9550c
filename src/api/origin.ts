// Errors in programs tsbcc itself ships (a tool's embedded BPF C) must not read as if the user wrote them: a
// compile or verifier error at "<text>:12" of a program nobody showed them is a dead end. BPF.load's `origin`
// option names the program; the error keeps its class and code, and its message says whose program it is.
import { ErrorCode, TsbccError } from "../errors.js";

/** Codes whose message points into the BPF program's source. */
const PROGRAM_ERRORS = new Set<string>([ErrorCode.COMPILE, ErrorCode.VERIFIER, ErrorCode.PROGRAM_LOAD, ErrorCode.MAP_CREATE]);

/** Marks `e` as coming from the program described by `origin` ("tsbcc's execsnoop tool"); other errors pass. */
export function attributed(e: unknown, origin: string | undefined): unknown {
  if (!origin || !(e instanceof TsbccError) || !PROGRAM_ERRORS.has(e.code)) return e;
  if ((e as { origin?: string }).origin) return e;
  Object.defineProperty(e, "origin", { value: origin, enumerable: true });
  e.message = `in the BPF program embedded in ${origin} (not code you wrote; please report it as a tsbcc bug):\n${e.message}`;
  return e;
}
