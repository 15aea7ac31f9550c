// funclatency: time from a function's entry to its return (uprobe + uretprobe on user functions, kprobe +
// kretprobe on kernel functions where the kernel has them) as a log2 histogram, per interval or at the end, with
// BCC's avg/total/count line; -F keeps one histogram per function, -l times only the outermost levels of nesting.
import { UsageError } from "./lib/errors.js";
import { addSums, formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport } from "./lib/metrics.js";
import { positiveNumber } from "./lib/options.js";
import { attachPlan, parseProbeSpec, pidFilter, planProbes, type ProbePlan } from "./lib/probe-spec.js";
import { attachToolProgram, intervalStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "funclatency";
const DIVISORS = { nsecs: 1, usecs: 1000, msecs: 1000000 } as const;

export interface FunclatencyOptions extends Omit<StreamOptions, "source"> {
  /** "lib:func" / "p:lib:func" (uprobes; "c:read" is libc's read), "func" (kprobes), wildcards with "*". */
  pattern: string;
  regexp?: boolean;
  pid?: number;
  unit?: keyof typeof DIVISORS;
  /** One histogram per function. */
  perFunction?: boolean;
  /**
   * BCC's -l: time only the outermost `level` levels of nested or recursive traced calls, matching returns to
   * entries through a per-thread stack (default: each function timed on its own, keyed by thread and function).
   */
  level?: number;
  interval?: number;
  count?: number;
}

const MAX_LEVEL = 32;

/** Records `delta` (already in the unit) for target `i`: the log2 slot and the running total. */
function recordC(i: number, perFunction: boolean | undefined): string {
  return `    struct hist_key_t hk = { ${perFunction ? i : 0}, bpf_log2l(delta) };
    dist.atomic_increment(hk);
    u32 fk = ${perFunction ? i : 0};
    struct total_t zero = {};
    struct total_t *t = totals.lookup_or_try_init(&fk, &zero);
    if (t) __sync_fetch_and_add(&t->total, delta);`;
}

/** Entry and return of target `i` timed by a start keyed by thread and function. */
function pairC(i: number, o: FunclatencyOptions, div: number): string {
  return `
int entry_${i}(struct pt_regs *ctx) {
${pidFilter(o.pid)}    struct start_key_t k = { bpf_get_current_pid_tgid(), ${i} };
    u64 ts = bpf_ktime_get_ns();
    start.update(&k, &ts);
    return 0;
}
int return_${i}(struct pt_regs *ctx) {
    struct start_key_t k = { bpf_get_current_pid_tgid(), ${i} };
    u64 *ts = start.lookup(&k);
    if (!ts) return 0;
    u64 delta = (bpf_ktime_get_ns() - *ts) / ${div};
    start.delete(&k);
${recordC(i, o.perFunction)}
    return 0;
}`;
}

/**
 * With a level: one stack per thread across all traced functions. Every entry deepens it, the outermost
 * `level` entries keep their start time; a return pops one level and is timed only if its level was kept.
 */
function nestedC(i: number, o: FunclatencyOptions, div: number): string {
  return `
int entry_${i}(struct pt_regs *ctx) {
${pidFilter(o.pid)}    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct nest_t fresh = {};
    struct nest_t *n = nest.lookup_or_try_init(&tid, &fresh);
    if (!n) return 0;
    u32 d = n->depth;
    if (d < LEVELS) n->ts[d] = bpf_ktime_get_ns();
    if (d < MAX_DEPTH) n->depth = d + 1;
    return 0;
}
int return_${i}(struct pt_regs *ctx) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct nest_t *n = nest.lookup(&tid);
    if (!n || n->depth == 0) return 0;
    u32 d = n->depth - 1;
    n->depth = d;
    if (d >= LEVELS) return 0;
    u64 delta = (bpf_ktime_get_ns() - n->ts[d]) / ${div};
    if (d == 0) nest.delete(&tid);
${recordC(i, o.perFunction)}
    return 0;
}`;
}

function program(plan: ProbePlan, o: FunclatencyOptions): string {
  const div = DIVISORS[o.unit ?? "nsecs"];
  const nested = o.level !== undefined;
  const fns = plan.targets.map((_, i) => (nested ? nestedC(i, o, div) : pairC(i, o, div))).join("\n");
  const starts = nested
    ? `#define LEVELS ${o.level}\n#define MAX_DEPTH 100000\nstruct nest_t { u32 depth; u64 ts[LEVELS]; };\nBPF_HASH(nest, u32, struct nest_t, 10240);`
    : `// Keyed by thread and function, so nested traced functions (a wildcard) are timed each on its own.
struct start_key_t { u64 id; u64 fn; };
BPF_HASH(start, struct start_key_t, u64, 10240);`;
  return `
${starts}
struct hist_key_t { u64 fn; u64 slot; };
struct total_t { u64 total; };
BPF_HISTOGRAM(dist, struct hist_key_t, 4096);
BPF_HASH(totals, u32, struct total_t, 1024);
${fns}
`;
}

function plan(o: FunclatencyOptions): ProbePlan {
  if (o === null || typeof o !== "object") throw new UsageError(NAME, "options are required ({ pattern })");
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || o.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${o.pid}`);
  if (o.unit !== undefined && !(o.unit in DIVISORS)) throw new UsageError(NAME, `unit must be nsecs, usecs or msecs, got ${String(o.unit)}`);
  if (o.interval !== undefined && !(o.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${o.interval}`);
  if (o.level !== undefined && (!Number.isInteger(o.level) || o.level < 1 || o.level > MAX_LEVEL)) throw new UsageError(NAME, `level must be an integer from 1 to ${MAX_LEVEL}, got ${o.level}`);
  return planProbes(NAME, parseProbeSpec(NAME, o.pattern, ["p"]), { pid: o.pid, regexp: o.regexp, prefix: "entry" });
}

/** funclatency as a library: IntervalReports with the "function_latency" histogram (series per function with perFunction). */
export async function funclatency(opts: FunclatencyOptions): Promise<ToolStream<IntervalReport> & { targets: string[] }> {
  const p = plan(opts);
  const b = await loadToolProgram(NAME, program(p, opts));
  attachToolProgram(NAME, b, (x) => {
    attachPlan(x, p, { pid: opts.pid, ret: false });
    attachPlan(x, { ...p, targets: p.targets.map((t, i) => ({ ...t, fnName: `return_${i}` })) }, { pid: opts.pid, ret: true });
  });
  const unit = opts.unit ?? "nsecs";
  const labelsOf = (fn: number | bigint): Record<string, string> => (opts.perFunction ? { function: p.targets[Number(fn)]!.name } : {});
  const collect = (seconds: number): IntervalReport => {
    const series = readSlots(b.table<any>("dist"), (k) => ({ labels: labelsOf(k.fn), slot: Number(k.slot) }));
    addSums(series, b.table<any>("totals"), (k) => labelsOf(k as number));
    return report(NAME, seconds, [histogramMetric({ name: "function_latency", unit, help: `latency of ${p.spec.text}` }, series.values())]);
  };
  return Object.assign(intervalStream(p.source, opts, collect, () => b.close()), { targets: p.targets.map((t) => t.name) });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Time functions and print latency as a histogram",
  json: "interval",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "trace this PID only" },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, help: "summary interval, in seconds" },
    { name: "duration", short: "d", long: "duration", kind: "value", parse: positiveNumber, help: "total duration of trace, in seconds" },
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "include timestamp on output" },
    { name: "microseconds", short: "u", long: "microseconds", kind: "flag", help: "microsecond histogram" },
    { name: "milliseconds", short: "m", long: "milliseconds", kind: "flag", help: "millisecond histogram" },
    { name: "function", short: "F", long: "function", kind: "flag", help: "show a separate histogram per function" },
    { name: "regexp", short: "r", long: "regexp", kind: "flag", help: "use regular expressions. Default is \"*\" wildcards only." },
    { name: "level", short: "l", long: "level", kind: "value", parse: "uint", help: `set the level of nested or recursive functions (1 to ${MAX_LEVEL})` },
  ],
  positionals: [{ name: "pattern", required: true, help: "search expression for functions" }],
  examples: [
    ["tsbcc funclatency do_sys_open", "time the do_sys_open() kernel function (needs kprobes)"],
    ["tsbcc funclatency c:read", "time the read() C library function"],
    ["tsbcc funclatency -u vfs_read", "time vfs_read(), in microseconds"],
    ["tsbcc funclatency -m do_nanosleep", "time do_nanosleep(), in milliseconds"],
    ["tsbcc funclatency -i 2 -d 10 c:open", "output every 2 seconds, for duration 10s"],
    ["tsbcc funclatency -mTi 5 vfs_read", "output every 5 seconds, with timestamps"],
    ["tsbcc funclatency -p 181 vfs_read", "time process 181 only"],
    ["tsbcc funclatency 'c:*printf'", "time the *printf family of functions"],
    ["tsbcc funclatency -F 'c:pthread_mutex_*'", "show a separate histogram per function"],
    ["tsbcc funclatency -l 2 ./app:walk_tree", "time the outermost 2 levels of the recursive walk_tree"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.microseconds && o.milliseconds) throw new UsageError(NAME, "argument -m/--milliseconds: not allowed with argument -u/--microseconds");
  const stream = await funclatency({
    pattern: o.pattern, regexp: o.regexp, pid: o.pid, unit: o.milliseconds ? "msecs" : o.microseconds ? "usecs" : "nsecs",
    perFunction: o.function, level: o.level, interval: o.interval, duration: o.duration, signal: run.signal,
  });
  if (!run.json) run.out.write(`Tracing ${stream.targets.length} functions for "${o.pattern}"... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, extension: true, section: o.function ? (l) => `Function = ${l.function}` : undefined }));
  }
  if (!run.json) run.out.write("Detaching...\n");
  return 0;
}

export const tool: CliTool = { spec, main };
