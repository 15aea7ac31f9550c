// memleak: outstanding (not yet freed) allocations grouped by the stack that made them, every interval: a process's
// libc allocations (-p, uprobes on malloc/calloc/realloc/aligned_alloc/memalign/valloc/posix_memalign and free) or
// the kernel's (kmem tracepoints: kmalloc/kfree, kmem_cache_alloc/free, mm_page_alloc/free).
import { BPF } from "../index.js";
import { symbolizeStack } from "../symbols/index.js";
import { UsageError } from "./lib/errors.js";
import { clock } from "./lib/format.js";
import { KERNEL_TRACEPOINTS, kernelProgram, USER_ALLOCATORS, userProgram } from "./lib/memleak-program.js";
import { intervalPositionals, positiveInt } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { dropTracingFrames, stackStream } from "./lib/stacks.js";
import { attachToolProgram, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "memleak";
const PAGE_SIZE = 4096;

export interface MemleakOptions extends StreamOptions {
  /** The process whose libc allocations to trace; without it, kernel allocations. */
  pid?: number;
  /** Only allocations older than this many milliseconds count as outstanding. */
  olderMs?: number;
  /** Keep only the `top` stacks with the most outstanding bytes (default 10). */
  top?: number;
  minSize?: number;
  maxSize?: number;
  /** Sample about one allocation in N. */
  sampleRate?: number;
  /** Library whose allocator to hook instead of libc ("c"). */
  object?: string;
  /** Report every `interval` seconds (default 5), `count` times. */
  interval?: number;
  count?: number;
}

export interface OutstandingStack {
  bytes: number;
  allocations: number;
  /** Frames, innermost first, with offsets and modules as BCC prints them. */
  frames: string[];
  /** The outstanding allocations (address, size) of this stack, largest first (at most 10). */
  samples: { address: string; size: number }[];
}

export interface MemleakReport {
  time: string;
  stacks: OutstandingStack[];
}

function check(o: MemleakOptions): void {
  const bad = (m: string): never => { throw new UsageError(NAME, m); };
  for (const k of ["pid", "olderMs", "minSize", "maxSize"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) bad(`${k} must be a non-negative integer, got ${o[k]}`);
  for (const k of ["top", "sampleRate"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 1)) bad(`${k} must be a positive integer, got ${o[k]}`);
  if (o.minSize !== undefined && o.maxSize !== undefined && o.minSize > o.maxSize) bad("min size must not exceed max size");
  if (o.interval !== undefined && !(o.interval > 0)) bad(`interval must be positive, got ${o.interval}`);
}

interface Raw { size: bigint; timestamp_ns: bigint; stack_id: number }

/** memleak as a library: a MemleakReport every interval (default 5 s) and one when it stops. */
export async function memleak(opts: MemleakOptions = {}): Promise<ToolStream<MemleakReport>> {
  check(opts);
  const lib = opts.object ?? "c";
  const user = opts.pid !== undefined;
  const candidates = user ? [{ kind: "uprobe" as const, targets: [`${lib}:malloc`, `${lib}:free`] }] : [{ kind: "tracepoint" as const, targets: KERNEL_TRACEPOINTS }];
  const source: ChosenSource = chooseSource(NAME, candidates, opts.source);
  const filter = { minSize: opts.minSize, maxSize: opts.maxSize, sampleRate: opts.sampleRate, pageSize: PAGE_SIZE };
  const b = await loadToolProgram(NAME, user ? userProgram(filter) : kernelProgram(filter, source.targets));
  if (user) {
    BPF.rememberProcess(opts.pid!);
    attachToolProgram(NAME, b, (x) => {
      const path = BPF.findLibrary(lib, opts.pid) ?? lib;
      // glibc's memalign and aligned_alloc are one function: probe each address once.
      const seen = new Set<bigint>();
      for (const fn of USER_ALLOCATORS) {
        const at = BPF.getUserAddresses(path, fn)[0];
        if (!at || seen.has(at.offset)) continue;
        seen.add(at.offset);
        x.attachUprobe({ name: lib, sym: fn, fnName: `${fn}_enter`, pid: opts.pid });
        x.attachUretprobe({ name: lib, sym: fn, fnName: `${fn}_exit`, pid: opts.pid });
      }
      x.attachUprobe({ name: lib, sym: "free", fnName: "free_enter", pid: opts.pid });
    });
  }
  const collect = (): MemleakReport => {
    const cutoff = process.hrtime.bigint() - BigInt(opts.olderMs ?? 0) * 1000000n;
    const byStack = new Map<number, { bytes: number; allocations: number; samples: { address: string; size: number }[] }>();
    for (const [addr, info] of b.table<any>("allocs") as Iterable<[bigint, Raw]>) {
      if (info.timestamp_ns > cutoff) continue;
      const id = Number(info.stack_id);
      let s = byStack.get(id);
      if (!s) byStack.set(id, (s = { bytes: 0, allocations: 0, samples: [] }));
      s.bytes += Number(info.size);
      s.allocations++;
      s.samples.push({ address: `0x${BigInt(addr).toString(16)}`, size: Number(info.size) });
    }
    const table = b.table<any>("stack_traces");
    const top = [...byStack].sort((x, y) => x[1].bytes - y[1].bytes).slice(-(opts.top ?? 10));
    const stacks = top.map(([id, s]): OutstandingStack => {
      const frames = symbolizeStack(table, id, { pid: user ? opts.pid : -1, showOffset: true, showModule: true });
      return {
        bytes: s.bytes, allocations: s.allocations, samples: s.samples.sort((x, y) => y.size - x.size).slice(0, 10),
        frames: id < 0 ? ["[unknown stack]"] : user ? frames : dropTracingFrames(frames),
      };
    });
    return { time: new Date().toISOString(), stacks };
  };
  return stackStream(source, { ...opts, interval: opts.interval ?? 5 }, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace outstanding memory allocations that weren't freed",
  json: "event",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "the PID to trace; if not specified, trace kernel allocs" },
    { name: "showAllocs", short: "a", long: "show-allocs", kind: "flag", help: "show allocation addresses and sizes as well as call stacks" },
    { name: "older", short: "o", long: "older", kind: "value", parse: "uint", default: 500, help: "prune allocations younger than this age in milliseconds" },
    { name: "sampleRate", short: "s", long: "sample-rate", kind: "value", parse: positiveInt, default: 1, help: "sample every N-th allocation to decrease the overhead" },
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, default: 10, help: "display only this many top allocating stacks (by size)" },
    { name: "minSize", short: "z", long: "min-size", kind: "value", parse: "uint", help: "capture only allocations larger than this size" },
    { name: "maxSize", short: "Z", long: "max-size", kind: "value", parse: "uint", help: "capture only allocations smaller than this size" },
    { name: "obj", short: "O", long: "obj", kind: "value", default: "c", help: "attach to allocator functions in the specified object" },
  ],
  positionals: intervalPositionals("interval in seconds to print outstanding allocations", "number of times to print the report before exiting"),
  examples: [
    ["tsbcc memleak -p $(pidof allocs)", "summary of outstanding allocations of a process every 5 seconds"],
    ["tsbcc memleak -ap $(pidof allocs) 10", "with allocation addresses and sizes, every 10 seconds"],
    ["tsbcc memleak", "kernel allocations (kmem tracepoints), every 5 seconds"],
    ["tsbcc memleak -o 60000", "kernel allocations at least one minute old"],
    ["tsbcc memleak -s 5", "trace roughly every 5th allocation, to reduce overhead"],
  ],
};

function formatReport(r: MemleakReport, o: Record<string, any>): string {
  let text = `[${clock(new Date(r.time))}] Top ${o.top ?? 10} stacks with outstanding allocations:\n`;
  for (const s of r.stacks) {
    if (o.showAllocs) for (const a of s.samples) text += `\taddr = ${a.address.slice(2)} size = ${a.size}\n`;
    text += `\t${s.bytes} bytes in ${s.allocations} allocations from stack\n${s.frames.map((f) => `\t\t${f}\n`).join("")}`;
  }
  return text;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.minSize !== undefined && o.maxSize !== undefined && o.minSize > o.maxSize) throw new UsageError(NAME, "min_size (-z) can't be greater than max_size (-Z)");
  const stream = await memleak({
    pid: o.pid, olderMs: o.older, top: o.top, minSize: o.minSize, maxSize: o.maxSize, sampleRate: o.sampleRate, object: o.obj,
    interval: o.interval, count: o.count, signal: run.signal,
  });
  if (!run.json) run.out.write(o.pid !== undefined ? `Attaching to pid ${o.pid}, Ctrl+C to quit.\n` : "Attaching to kernel allocators, Ctrl+C to quit.\n");
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else run.out.write(formatReport(r, o));
  }
  return 0;
}

export const tool: CliTool = { spec, main };
