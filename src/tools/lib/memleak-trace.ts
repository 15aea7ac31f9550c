// memleak -t: one event per allocator entry, allocator return and free of a recorded block, as they happen, read
// from the program's trace_events perf output (BCC prints bpf_trace_printk lines; the messages here are BCC's).
import type { BPF } from "../../index.js";
import { left } from "./format.js";
import { TRACE_KINDS } from "./memleak-program.js";
import type { ChosenSource } from "./source.js";
import { eventStream, type StreamOptions, type ToolStream } from "./stream.js";

export interface MemleakTraceEvent {
  kind: (typeof TRACE_KINDS)[number];
  /** Kernel monotonic time of the call, in seconds. */
  timeS: number;
  pid: number;
  tid: number;
  cpu: number;
  comm: string;
  /** Bytes asked for (alloc-enter, alloc-exit) or that the freed block had (free). */
  size: number;
  /** The block's address, hex (0x0 for alloc-enter, and for an allocation that failed). */
  address: string;
}

interface RawTrace { ts: bigint; size: bigint; address: bigint; pid: number; tid: number; cpu: number; kind: number; comm: string }

/** The trace events of a loaded memleak program; `dispose` runs once when the stream ends or is closed. */
export function memleakTraceStream(b: BPF, source: ChosenSource, opts: StreamOptions, dispose: () => void): ToolStream<MemleakTraceEvent> {
  return eventStream<RawTrace, MemleakTraceEvent>(b, "trace_events", source, { ...opts, pageCnt: 256, dispose }, (r) => ({
    kind: TRACE_KINDS[r.kind] ?? "free", timeS: Number(r.ts) / 1e9, pid: r.pid, tid: r.tid, cpu: r.cpu, comm: r.comm,
    size: Number(r.size), address: `0x${BigInt(r.address).toString(16)}`,
  }));
}

/** BCC's trace message for the event, after the task, pid, CPU and time, as trace_pipe lays them out. */
export function formatTraceEvent(ev: MemleakTraceEvent): string {
  const hex = ev.address.slice(2);
  const msg = ev.kind === "alloc-enter" ? `alloc entered, size = ${ev.size}`
    : ev.kind === "alloc-exit" ? `alloc exited, size = ${ev.size}, result = ${hex}`
      : `free entered, address = ${hex}, size = ${ev.size}`;
  return `${left(ev.comm, 16)} ${left(ev.pid, 7)} [${String(ev.cpu).padStart(3, "0")}] ${ev.timeS.toFixed(6)}: ${msg}\n`;
}
