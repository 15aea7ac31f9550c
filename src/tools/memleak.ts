// memleak: outstanding (not yet freed) allocations grouped by the stack that made them, every interval: a process's
// libc allocations (-p, or a command it runs with -c; uprobes on malloc/calloc/realloc/aligned_alloc/memalign/
// valloc/posix_memalign and free) or the kernel's (kmem tracepoints, or the percpu ones with --percpu). -t prints
// each allocator call instead; --combined-only reads per-stack totals the kernel keeps instead of every block.
import { basename } from "node:path";
import { BPF } from "../index.js";
import { symbolizeStack } from "../symbols/index.js";
import { UsageError } from "./lib/errors.js";
import { clock } from "./lib/format.js";
import { KERNEL_TRACEPOINTS, kernelProgram, PERCPU_TRACEPOINTS, USER_ALLOCATORS, userProgram } from "./lib/memleak-program.js";
import { formatTraceEvent, memleakTraceStream, type MemleakTraceEvent } from "./lib/memleak-trace.js";
import { intervalPositionals, positiveInt } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { dropTracingFrames, stackStream } from "./lib/stacks.js";
import { anySignal, attachToolProgram, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { resolveCommand, startStopped } from "./lib/traced-command.js";

export type { MemleakTraceEvent } from "./lib/memleak-trace.js";

const NAME = "memleak";
const PAGE_SIZE = 4096;

export interface MemleakOptions extends StreamOptions {
  /** The process whose libc allocations to trace; without it (and without `command`), kernel allocations. */
  pid?: number;
  /** Run this command (a string split on blanks, or argv) and trace it; the stream ends when it exits. */
  command?: string | readonly string[];
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
  /** Report per-stack totals kept in the kernel (no addresses, no age filter), as BCC's --combined-only. */
  combinedOnly?: boolean;
  /** An address handed out again while still recorded counts as freed first (a free that was missed). */
  waMissingFree?: boolean;
  /** Kernel per-CPU allocations (percpu tracepoints) instead of kmem ones. */
  percpu?: boolean;
  /** One MemleakTraceEvent per allocator call and free instead of reports (BCC's -t). */
  trace?: boolean;
  /** Report every `interval` seconds (default 5), `count` times. */
  interval?: number;
  count?: number;
}

export interface OutstandingStack {
  bytes: number;
  allocations: number;
  /** Frames, innermost first, with offsets and modules as BCC prints them. */
  frames: string[];
  /** The outstanding allocations (address, size) of this stack, largest first (at most 10; none with combinedOnly). */
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
  if (o.pid !== undefined && o.command !== undefined) bad("give a pid or a command, not both");
  if (o.percpu && (o.pid !== undefined || o.command !== undefined)) bad("percpu traces kernel allocations: not with a pid or a command");
  if (o.object !== undefined && (typeof o.object !== "string" || o.object === "")) bad("object must name a library");
}

/** The tool's stream; `pid` is the traced process (the command's with `command`), undefined for the kernel. */
export type MemleakStream<T> = ToolStream<T> & { readonly pid?: number };

interface Raw { size: bigint; timestamp_ns: bigint; stack_id: number }
interface RawCombined { total_size: bigint; number_of_allocs: bigint }
type Samples = { bytes: number; allocations: number; samples: { address: string; size: number }[] };

/** memleak as a library: a MemleakReport every interval (default 5 s) and one when it stops; with `trace`, events. */
export async function memleak(opts: MemleakOptions & { trace: true }): Promise<MemleakStream<MemleakTraceEvent>>;
export async function memleak(opts?: MemleakOptions): Promise<MemleakStream<MemleakReport>>;
export async function memleak(opts: MemleakOptions = {}): Promise<MemleakStream<MemleakReport> | MemleakStream<MemleakTraceEvent>> {
  check(opts);
  const lib = opts.object ?? "c";
  const argv = opts.command !== undefined ? resolveCommand(NAME, opts.command) : undefined;
  const user = opts.pid !== undefined || argv !== undefined;
  const kernelTargets = opts.percpu ? PERCPU_TRACEPOINTS : KERNEL_TRACEPOINTS;
  const candidates = user ? [{ kind: "uprobe" as const, targets: [`${lib}:malloc`, `${lib}:free`] }] : [{ kind: "tracepoint" as const, targets: kernelTargets }];
  const source: ChosenSource = chooseSource(NAME, candidates, opts.source);
  const filter = {
    minSize: opts.minSize, maxSize: opts.maxSize, sampleRate: opts.sampleRate, pageSize: PAGE_SIZE,
    combined: opts.combinedOnly, trace: opts.trace, waMissingFree: opts.waMissingFree,
  };
  const cmd = argv ? await startStopped(NAME, argv) : undefined;
  const pid = cmd?.pid ?? opts.pid;
  let b: BPF;
  try {
    b = await loadToolProgram(NAME, user ? userProgram({ ...filter, execPid: cmd?.pid }) : kernelProgram(filter, source.targets));
    if (user) {
      BPF.rememberProcess(pid!);
      attachToolProgram(NAME, b, (x) => attachAllocators(x, lib, pid!));
    }
  } catch (e) {
    cmd?.kill();
    throw e;
  }
  // A command's end ends the stream (with a last report); closing the stream first kills the command.
  const ended = new AbortController();
  void cmd?.exited.then(() => ended.abort());
  const signals = [ended.signal, ...(opts.signal ? [opts.signal] : [])];
  const signal = anySignal(signals);
  const dispose = (): void => {
    cmd?.kill();
    b.close();
  };
  // The trace reader is open before the command runs, so its first calls are not lost.
  const libName = basename(BPF.findLibrary(lib, pid) ?? lib);
  if (opts.trace) {
    const events = memleakTraceStream(b, source, { ...opts, signal }, dispose);
    await cmd?.release(libName);
    return Object.assign(events, { pid });
  }
  const stacksOf = (id: number): string[] => {
    if (id < 0) return ["[unknown stack]"];
    const frames = symbolizeStack(b.table<any>("stack_traces"), id, { pid: user ? pid : -1, showOffset: true, showModule: true });
    return user ? frames : dropTracingFrames(frames);
  };
  const collect = (): MemleakReport => {
    const byStack = opts.combinedOnly ? combinedTotals(b) : outstanding(b, opts.olderMs ?? 0);
    const top = [...byStack].sort((x, y) => x[1].bytes - y[1].bytes).slice(-(opts.top ?? 10));
    const stacks = top.map(([id, s]): OutstandingStack => ({
      bytes: s.bytes, allocations: s.allocations, samples: s.samples.sort((x, y) => y.size - x.size).slice(0, 10), frames: stacksOf(id),
    }));
    return { time: new Date().toISOString(), stacks };
  };
  const reports = stackStream(source, { ...opts, signal, interval: opts.interval ?? 5 }, collect, dispose);
  await cmd?.release(libName);
  return Object.assign(reports, { pid });
}

function attachAllocators(x: BPF, lib: string, pid: number): void {
  const path = BPF.findLibrary(lib, pid) ?? lib;
  // glibc's memalign and aligned_alloc are one function: probe each address once.
  const seen = new Set<bigint>();
  for (const fn of USER_ALLOCATORS) {
    const at = BPF.getUserAddresses(path, fn)[0];
    if (!at || seen.has(at.offset)) continue;
    seen.add(at.offset);
    x.attachUprobe({ name: lib, sym: fn, fnName: `${fn}_enter`, pid });
    x.attachUretprobe({ name: lib, sym: fn, fnName: `${fn}_exit`, pid });
  }
  x.attachUprobe({ name: lib, sym: "free", fnName: "free_enter", pid });
}

/** Every recorded block older than `olderMs`, grouped by stack id. */
function outstanding(b: BPF, olderMs: number): Map<number, Samples> {
  const cutoff = process.hrtime.bigint() - BigInt(olderMs) * 1000000n;
  const byStack = new Map<number, Samples>();
  for (const [addr, info] of b.table<any>("allocs") as Iterable<[bigint, Raw]>) {
    if (info.timestamp_ns > cutoff) continue;
    const id = Number(info.stack_id);
    let s = byStack.get(id);
    if (!s) byStack.set(id, (s = { bytes: 0, allocations: 0, samples: [] }));
    s.bytes += Number(info.size);
    s.allocations++;
    s.samples.push({ address: `0x${BigInt(addr).toString(16)}`, size: Number(info.size) });
  }
  return byStack;
}

/** The kernel's per-stack totals (stacks whose blocks were all freed are left out). */
function combinedTotals(b: BPF): Map<number, Samples> {
  const byStack = new Map<number, Samples>();
  for (const [key, c] of b.table<any>("combined_allocs") as Iterable<[bigint, RawCombined]>) {
    const allocations = Number(BigInt.asIntN(64, BigInt(c.number_of_allocs)));
    if (allocations <= 0) continue;
    byStack.set(Number(BigInt.asIntN(64, BigInt(key))), { bytes: Number(BigInt.asIntN(64, BigInt(c.total_size))), allocations, samples: [] });
  }
  return byStack;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace outstanding memory allocations that weren't freed",
  json: "event",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "the PID to trace; if not specified, trace kernel allocs" },
    { name: "trace", short: "t", long: "trace", kind: "flag", help: "print trace messages for each alloc/free call" },
    { name: "showAllocs", short: "a", long: "show-allocs", kind: "flag", help: "show allocation addresses and sizes as well as call stacks" },
    { name: "older", short: "o", long: "older", kind: "value", parse: "uint", default: 500, help: "prune allocations younger than this age in milliseconds" },
    { name: "command", short: "c", long: "command", kind: "value", help: "execute and trace the specified command" },
    { name: "combinedOnly", long: "combined-only", kind: "flag", help: "show combined allocation statistics only" },
    { name: "waMissingFree", long: "wa-missing-free", kind: "flag", help: "workaround to alleviate misjudgments when free is missing" },
    { name: "sampleRate", short: "s", long: "sample-rate", kind: "value", parse: positiveInt, default: 1, help: "sample every N-th allocation to decrease the overhead" },
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, default: 10, help: "display only this many top allocating stacks (by size)" },
    { name: "minSize", short: "z", long: "min-size", kind: "value", parse: "uint", help: "capture only allocations larger than this size" },
    { name: "maxSize", short: "Z", long: "max-size", kind: "value", parse: "uint", help: "capture only allocations smaller than this size" },
    { name: "obj", short: "O", long: "obj", kind: "value", default: "c", help: "attach to allocator functions in the specified object" },
    { name: "percpu", long: "percpu", kind: "flag", help: "trace percpu allocations" },
  ],
  positionals: intervalPositionals("interval in seconds to print outstanding allocations", "number of times to print the report before exiting"),
  examples: [
    ["tsbcc memleak -p $(pidof allocs)", "summary of outstanding allocations of a process every 5 seconds"],
    ["tsbcc memleak -p $(pidof allocs) -t", "each allocator call and free as it happens"],
    ["tsbcc memleak -ap $(pidof allocs) 10", "with allocation addresses and sizes, every 10 seconds"],
    ["tsbcc memleak -c \"./allocs\"", "run the command and trace its allocations"],
    ["tsbcc memleak", "kernel allocations (kmem tracepoints), every 5 seconds"],
    ["tsbcc memleak -o 60000", "kernel allocations at least one minute old"],
    ["tsbcc memleak -s 5", "trace roughly every 5th allocation, to reduce overhead"],
    ["tsbcc memleak --percpu", "kernel per-CPU allocations (percpu tracepoints)"],
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
  const common = {
    pid: o.pid, command: o.command, olderMs: o.older, top: o.top, minSize: o.minSize, maxSize: o.maxSize, sampleRate: o.sampleRate, object: o.obj,
    combinedOnly: o.combinedOnly, waMissingFree: o.waMissingFree, percpu: o.percpu, interval: o.interval, count: o.count, signal: run.signal,
  };
  if (o.command !== undefined && !run.json) run.out.write(`Executing '${o.command}' and tracing the resulting process.\n`);
  const header = (pid: number | undefined): void => {
    if (!run.json) run.out.write(pid !== undefined ? `Attaching to pid ${pid}, Ctrl+C to quit.\n` : "Attaching to kernel allocators, Ctrl+C to quit.\n");
  };
  if (o.trace) {
    const stream = await memleak({ ...common, trace: true });
    header(stream.pid);
    for await (const ev of stream) run.json ? run.emit(ev) : run.out.write(formatTraceEvent(ev));
    return 0;
  }
  const stream = await memleak(common);
  header(stream.pid);
  for await (const r of stream) run.json ? run.emit(r) : run.out.write(formatReport(r, o));
  return 0;
}

export const tool: CliTool = { spec, main };
