// What the stack tools (profile, offcputime, stackcount) share: a BPF_STACK_TRACE table's user and kernel stack ids
// turned into symbolized `StackCount`s, printed as BCC prints them (kernel frames innermost first, "--" between
// kernel and user with -d, then "-  comm (pid)" and the count), as folded lines (-f), or written as a flame graph
// SVG / folded file (--flamegraph / --folded). JS frames come from a node process's perf map through the symbolizer.
import { foldFrames, formatFolded, writeFlameGraph, writeFolded, type FoldedStack } from "../../export/flamegraph.js";
import type { BPF } from "../../index.js";
import { symbolizeFrame } from "../../symbols/index.js";
import type { SymOptions } from "../../symbols/symbolizer.js";
import type { OptionSpec } from "./args.js";
import type { ChosenSource } from "./source.js";
import { intervalStream, type StreamOptions, type ToolStream } from "./stream.js";
import type { ToolRun } from "./tool.js";

/** One distinct stack (per process) and how often (or how long) it was seen. */
export interface StackCount {
  pid: number;
  tid?: number;
  comm: string;
  /** User frames, innermost first ([] when not collected or unreadable). */
  user: string[];
  /** Kernel frames, innermost first. */
  kernel: string[];
  /** Samples, calls, or time (the tool's unit). */
  value: number;
  /** A stack id that could not be read (e.g. -EFAULT, -ENOMEM: the table was full). */
  missingUser?: boolean;
  missingKernel?: boolean;
  /** With `addresses`: the raw address of each frame of `user` / `kernel`, same order. */
  userAddresses?: bigint[];
  kernelAddresses?: bigint[];
}

/** The raw key shape the stack tools' programs use. */
export interface RawStackKey {
  pid: number;
  tid?: number;
  user_stack_id: number;
  kernel_stack_id: number;
  name: string;
}

const EFAULT = -14;

/**
 * A stack id that stands for a stack that could not be recorded (table full, ...), as opposed to none to take
 * (-EFAULT: e.g. no user stack for a kernel thread): BCC prints "[Missed ... Stack]" for the first only.
 */
export function stackIdMissed(id: number): boolean {
  return id < 0 && id !== EFAULT;
}

/** Frames of the tracing machinery itself at the top of a kernel stack taken in a tracepoint program. */
const TRACING_FRAME = /^(bpf_prog_[0-9a-f]+_|bpf_trace_run\d|__bpf_trace_|__traceiter_|trace_call_bpf|perf_trace_|perf_syscall_(enter|exit))/;

/** A kernel stack without the BPF/tracepoint frames above the traced function. */
/**
 * The maps a stack-counting tool declares: counts per (pid, user stack, kernel stack, comm) and the stack table
 * that readStackCounts reads back ("counts", "stack_traces").
 */
export function stackCountMapsC(countEntries: number | string, stackEntries: number | string): string {
  return `struct key_t {
    u32 pid;
    int user_stack_id;
    int kernel_stack_id;
    char name[TASK_COMM_LEN];
};
BPF_HASH(counts, struct key_t, u64, ${countEntries});
BPF_STACK_TRACE(stack_traces, ${stackEntries});
`;
}

export function dropTracingFrames(frames: string[]): string[] {
  let i = 0;
  while (i < frames.length && TRACING_FRAME.test(frames[i]!)) i++;
  return i ? frames.slice(i) : frames;
}

/** One stack read back with the address of each frame (tracing frames of a kernel stack dropped from both). */
export interface AddressedStack {
  frames: string[];
  addresses: bigint[];
}

/**
 * Frames and raw addresses of stack `id` in `table` (a user stack of `pid`, or the kernel's when `pid` is
 * undefined), innermost first; [] for a negative id.
 */
export function readAddressedStack(table: { walk(id: number): Iterable<unknown> }, id: number, o: SymOptions & { pid?: number } = {}): AddressedStack {
  if (id < 0) return { frames: [], addresses: [] };
  const addresses = [...table.walk(id)].filter((a): a is bigint => typeof a === "bigint");
  const frames = addresses.map((a) => symbolizeFrame(a, { ...o, pid: o.pid ?? -1 }));
  if (o.pid !== undefined) return { frames, addresses };
  // The tracing frames carry no module/offset suffix in their leading name, so the same test applies.
  const kept = dropTracingFrames(frames);
  return { frames: kept, addresses: addresses.slice(frames.length - kept.length) };
}

/** Reads a counts table keyed by RawStackKey into symbolized stacks, sorted by value (smallest first, as BCC). */
export function readStackCounts(b: BPF, counts: string, stacks: string,
  opts: { user: boolean; kernel: boolean; clear?: boolean; showOffset?: boolean; addresses?: boolean }): StackCount[] {
  const table = b.table<any>(stacks);
  const out: StackCount[] = [];
  for (const [k, v] of b.table<any>(counts) as Iterable<[RawStackKey, number | bigint | { total: bigint }]>) {
    const value = Number(typeof v === "object" ? v.total : v);
    const uid = Number(k.user_stack_id);
    const kid = Number(k.kernel_stack_id);
    const user = opts.user ? readAddressedStack(table, uid, { pid: Number(k.pid), showOffset: opts.showOffset }) : { frames: [], addresses: [] };
    const kernel = opts.kernel ? readAddressedStack(table, kid, { showOffset: opts.showOffset }) : { frames: [], addresses: [] };
    out.push({
      pid: Number(k.pid), ...(k.tid !== undefined ? { tid: Number(k.tid) } : {}), comm: String(k.name),
      user: user.frames,
      kernel: kernel.frames,
      ...(opts.addresses ? { userAddresses: user.addresses, kernelAddresses: kernel.addresses } : {}),
      value,
      ...(opts.user && uid < 0 && uid !== EFAULT ? { missingUser: true } : {}),
      ...(opts.kernel && kid < 0 && kid !== EFAULT ? { missingKernel: true } : {}),
    });
  }
  if (opts.clear) {
    b.table<any>(counts).clear();
    table.clear();
  }
  return out.sort((a, b) => a.value - b.value);
}

/** BCC's multi-line stack block: kernel frames, "--" (with delimiter), user frames, "-  comm (pid)", the value. */
export function formatStackBlock(s: StackCount, o: { delimiter?: boolean; indent?: string } = {}): string {
  const ind = o.indent ?? "    ";
  const lines: string[] = [];
  if (s.missingKernel) lines.push(`${ind}[Missed Kernel Stack]`);
  for (const f of s.kernel) lines.push(`${ind}${f}`);
  if (o.delimiter && s.kernel.length > 0 && s.user.length > 0) lines.push(`${ind}--`);
  if (s.missingUser) lines.push(`${ind}[Missed User Stack]`);
  for (const f of s.user) lines.push(`${ind}${f}`);
  lines.push(`${ind}${"-".padEnd(16)} ${s.comm} (${s.pid})`);
  lines.push(`${ind}    ${s.value}`);
  return lines.join("\n") + "\n\n";
}

/** Folded stacks (comm;user...;kernel... value); kernel frames carry "_[k]" when `annotate` (the SVG needs it). */
export function foldStacks(stacks: readonly StackCount[], o: { delimiter?: boolean; annotate?: boolean } = {}): FoldedStack[] {
  return stacks.map((s) => [foldFrames({
    comm: s.comm,
    user: s.missingUser ? ["[Missed User Stack]"] : s.user,
    kernel: s.missingKernel ? ["[Missed Kernel Stack]"] : s.kernel,
    delimiter: o.delimiter, annotateKernel: o.annotate ?? false,
  }), s.value] as const);
}

export function formatFoldedStacks(stacks: readonly StackCount[], o: { delimiter?: boolean; annotate?: boolean } = {}): string {
  return formatFolded(foldStacks(stacks, o));
}

/** Writes --flamegraph FILE.svg and/or --folded FILE when asked; returns the lines to tell the user. */
export function writeStackFiles(stacks: readonly StackCount[], o: { flamegraph?: string; folded?: string; title: string; countName: string }): string[] {
  const said: string[] = [];
  if (o.flamegraph) {
    writeFlameGraph(o.flamegraph, foldStacks(stacks, { annotate: true }), { title: o.title, countName: o.countName });
    said.push(`wrote flame graph ${o.flamegraph}`);
  }
  if (o.folded) {
    writeFolded(o.folded, foldStacks(stacks, { annotate: true }));
    said.push(`wrote folded stacks ${o.folded}`);
  }
  return said;
}

/** The options every stack tool shares (BCC's -f/-d/-U/-K plus the flame graph files). */
export const stackOptions = (): OptionSpec[] => [
  { name: "folded", short: "f", long: "folded", kind: "flag", help: "output folded format, one line per stack (for flame graphs)" },
  { name: "delimited", short: "d", long: "delimited", kind: "flag", help: "insert delimiter between kernel/user stacks" },
  { name: "userOnly", short: "U", long: "user-stacks-only", kind: "flag", help: "show stacks from user space only (no kernel space stacks)" },
  { name: "kernelOnly", short: "K", long: "kernel-stacks-only", kind: "flag", help: "show stacks from kernel space only (no user space stacks)" },
  { name: "flamegraph", long: "flamegraph", kind: "value", metavar: "FILE.svg", help: "also write an interactive flame graph SVG at the end" },
  { name: "foldedFile", long: "folded-file", kind: "value", metavar: "FILE", help: "also write the folded stacks to FILE at the end" },
];

/**
 * The stream of a stack tool: one array of stacks when it stops (close, signal, duration), as BCC prints its
 * stacks once at Ctrl-C, or one every `interval` seconds (then `collect` clears the tables) up to `count`.
 */
export function stackStream<T = StackCount[]>(source: ChosenSource, opts: StreamOptions & { interval?: number; count?: number }, collect: () => T,
  dispose: () => void): ToolStream<T> {
  return intervalStream<T>(source, opts, () => collect(), dispose);
}

/** The CLI side of a stack tool: text blocks or folded lines, --json (one object per stack), the files. */
export async function printStacks(stream: ToolStream<StackCount[]>, run: ToolRun, o: Record<string, any>, title: string, countName: string): Promise<void> {
  for await (const stacks of stream) {
    if (run.json) for (const s of stacks) run.emit(s);
    else if (o.folded) run.out.write(formatFoldedStacks(stacks, { delimiter: o.delimited, annotate: o.annotations }));
    else for (const s of stacks) run.out.write(formatStackBlock(s, { delimiter: o.delimited }));
    for (const line of writeStackFiles(stacks, { flamegraph: o.flamegraph, folded: o.foldedFile, title, countName })) run.err.write(`${line}\n`);
  }
}
