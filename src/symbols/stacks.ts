// Stacks to names: a BPF_STACK_TRACE (or BPF_STACK_TRACE_BUILDID) table's frames, or the raw u64 array that
// bpf_get_stack wrote, symbolized frame by frame. Kept here, beside the symbolizer, so the table classes stay
// free of symbol lookup: `symbolizeStack(table, id, { pid })` is BCC's `[b.sym(a, pid) for a in t.walk(id)]`.
import { ArgumentError } from "../errors.js";
import { type SymOptions, type Symbolizer, defaultSymbolizer } from "./symbolizer.js";

/** What a stack table must offer: BCC's walk(id) yielding addresses (bigint) or build-id frames. */
export interface WalkableStackTable {
  walk(stackId: number): Iterable<bigint | { status: number; buildId: Uint8Array; offset: bigint }>;
}

export interface StackSymOptions extends SymOptions {
  /** Process the user stack belongs to; omit or pass a negative pid for a kernel stack. */
  pid?: number;
  /** The symbolizer to use (default: the process-wide one). */
  symbolizer?: Symbolizer;
}

/** Symbolizes one frame: a kernel or user address, or a build-id frame. */
export function symbolizeFrame(frame: bigint | { buildId: Uint8Array; offset: bigint }, opts: StackSymOptions = {}): string {
  const s = opts.symbolizer ?? defaultSymbolizer();
  if (typeof frame === "bigint") return s.sym(frame, opts.pid ?? -1, opts);
  return s.symBuildId(frame, opts);
}

/**
 * The symbolized frames of `stackId` in `table`, innermost first. A negative id (bpf_get_stackid's error return,
 * e.g. -EFAULT for a stack that could not be read, -EEXIST with BPF_F_REUSE_STACKID off) gives [].
 */
export function symbolizeStack(table: WalkableStackTable, stackId: number, opts: StackSymOptions = {}): string[] {
  if (!table || typeof table.walk !== "function") throw new ArgumentError("table", "expected a stack trace table (with walk)");
  if (!Number.isInteger(stackId)) throw new ArgumentError("stackId", `expected an integer stack id, got ${String(stackId)}`);
  if (stackId < 0) return [];
  const out: string[] = [];
  for (const f of table.walk(stackId)) out.push(symbolizeFrame(f, opts));
  return out;
}

/**
 * Frames of a bpf_get_stack buffer (u64 addresses; `bytes` is the helper's return value when known), stopping at
 * the first zero.
 */
export function stackAddresses(buf: Uint8Array, bytes = buf.byteLength): bigint[] {
  if (!(buf instanceof Uint8Array)) throw new ArgumentError("buf", "expected a Uint8Array");
  if (!Number.isInteger(bytes) || bytes < 0) throw new ArgumentError("bytes", `expected a non-negative byte count, got ${bytes}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= Math.min(bytes, buf.byteLength); at += 8) {
    const a = view.getBigUint64(at, true);
    if (a === 0n) break;
    out.push(a);
  }
  return out;
}

/** Symbolizes a list of addresses (e.g. from stackAddresses) for `pid` (negative or omitted: kernel). */
export function symbolizeAddresses(addrs: Iterable<bigint>, opts: StackSymOptions = {}): string[] {
  const out: string[] = [];
  for (const a of addrs) out.push(symbolizeFrame(a, opts));
  return out;
}
