// argdist: the distribution of a traced function's argument (or return value, or tracepoint field) as a log2
// histogram (-H) or as counts of each value (-C), per interval. Specifiers follow BCC's
// {p,r,t,u}:{library,category}:function(signature):type[,type...]:expr[,expr...][:filter][#label] (parsed and turned
// into C in lib/argdist-program.ts): numbers and char* strings, $retval, $latency and $entry(param) in return probes,
// arg1..argN of USDT probes (u:); -I adds headers (lib/extra-includes.ts).
import { UsageError } from "./lib/errors.js";
import { formatHistogramMetric, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, toNumber, type CounterMetric, type HistogramMetric, type IntervalReport, type Metric } from "./lib/metrics.js";
import { positiveInt, positiveNumber } from "./lib/options.js";
import { argdistProgram, DEFAULT_STRING_SIZE, parseSpecifier, placements, type ArgdistSpecifier, type Planned } from "./lib/argdist-program.js";
import { attachPlan, parseProbeSpec, planProbes } from "./lib/probe-spec.js";
import { extraIncludes } from "./lib/extra-includes.js";
import { planUsdt } from "../usdt/index.js";
import { attachToolProgram, intervalStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { BPF } from "../index.js";

const NAME = "argdist";
const SIGNED = /^(int|long|long long|short|char|s8|s16|s32|s64|signed.*|ssize_t|off_t|pid_t)$/;
const MAX_STRING = 4096;

export { parseSpecifier, type ArgdistSpecifier } from "./lib/argdist-program.js";

export interface ArgdistOptions extends Omit<StreamOptions, "source"> {
  histograms?: string[];
  counts?: string[];
  pid?: number;
  tid?: number;
  /** Keep values across intervals instead of clearing them. */
  cumulative?: boolean;
  /** Bytes kept of each char* value (default 80). */
  stringSize?: number;
  /** Interval in seconds (default 1), `count` reports. */
  interval?: number;
  count?: number;
  /** Extra headers for the program (-I): a file path, or a kernel header name such as "linux/sched.h". */
  includes?: string[];
}

function planAll(o: ArgdistOptions): Planned[] {
  if (o === null || typeof o !== "object") throw new UsageError(NAME, "options are required");
  for (const k of ["pid", "tid"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${o[k]}`);
  if (o.interval !== undefined && !(o.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${o.interval}`);
  if (o.stringSize !== undefined && (!Number.isInteger(o.stringSize) || o.stringSize < 1 || o.stringSize > MAX_STRING)) throw new UsageError(NAME, `stringSize must be an integer from 1 to ${MAX_STRING}, got ${o.stringSize}`);
  const specs = [...(o.histograms ?? []).map((t) => parseSpecifier(t, "histogram")), ...(o.counts ?? []).map((t) => parseSpecifier(t, "count"))];
  if (specs.length === 0) throw new UsageError(NAME, "at least one probe must be specified (-H or -C)");
  return specs.map((spec, i) => {
    const plan = planProbes(NAME, parseProbeSpec(NAME, spec.probe, ["p", "r", "t", "u"]), { pid: o.pid, prefix: `probe${i}` });
    if (plan.targets.length !== 1) throw new UsageError(NAME, `"${spec.text}" matches ${plan.targets.length} functions; name one`);
    return { spec, plan };
  });
}

function program(planned: Planned[], o: ArgdistOptions): string {
  return argdistProgram(planned, { pid: o.pid, tid: o.tid, stringSize: o.stringSize ?? DEFAULT_STRING_SIZE, includes: extraIncludes(NAME, o.includes) });
}

const usdtOf = (planned: Planned[]) => planned.flatMap((p) => (p.plan.usdt ? [p.plan.usdt] : []));

/** The program text argdist would load for `opts` (-v), preceded by the USDT argument readers it generates. */
export function argdistProgramText(opts: ArgdistOptions): string {
  const planned = planAll(opts);
  const usdt = usdtOf(planned);
  return `${usdt.length ? planUsdt(usdt).prelude : ""}${program(planned, opts)}`;
}

/** The label of a key's expression j ("value" for the first, "value2", ... after it). */
const labelOf = (j: number): string => (j === 0 ? "value" : `value${j + 1}`);

function metricOf(b: BPF, { spec }: Planned, i: number, clear: boolean): Metric {
  const name = `argdist_${i}`;
  const help = spec.label ?? spec.text;
  if (spec.kind === "histogram") return histogramMetric({ name, unit: spec.label ?? (spec.defaultExpr ? "retval" : spec.expr), help }, readSlots(b.table<any>(`hist_${i}`), undefined, clear).values());
  const table = b.table<any>(`counts_${i}`);
  const series = [...table as Iterable<[Record<string, unknown>, bigint]>].map(([k, v]) => ({
    labels: Object.fromEntries(spec.exprs.map((e, j) => [labelOf(j), valueText(k[`v${j}`], e.type)])),
    value: toNumber(v),
  }));
  if (clear) table.clear();
  return { kind: "counter", name, unit: "count", help, series } as CounterMetric;
}

function valueText(v: unknown, type: string): string {
  if (typeof v === "bigint" || typeof v === "number") return String(SIGNED.test(type) ? BigInt.asIntN(64, BigInt(v)) : v);
  return String(v);
}

/** argdist as a library: IntervalReports, one metric per specifier (histogram for -H, counter by value for -C). */
export async function argdist(opts: ArgdistOptions): Promise<ToolStream<IntervalReport> & { specifiers: ArgdistSpecifier[] }> {
  const planned = planAll(opts);
  const usdt = usdtOf(planned);
  const b = await loadToolProgram(NAME, program(planned, opts), usdt.length ? { usdtContexts: usdt } : {});
  attachToolProgram(NAME, b, (x) => placements(planned).forEach((pl) => {
    attachPlan(x, { ...pl.plan, targets: [{ ...pl.plan.targets[0]!, fnName: pl.fnName }] }, { pid: opts.pid, ret: pl.ret });
  }));
  const collect = (seconds: number): IntervalReport => report(NAME, seconds, planned.map((p, i) => metricOf(b, p, i, !opts.cumulative)));
  const stream = intervalStream(planned[0]!.plan.source, { ...opts, interval: opts.interval ?? 1 }, collect, () => b.close());
  return Object.assign(stream, { specifiers: planned.map((p) => p.spec) });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace a function and display a summary of its parameter values.",
  json: "interval",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "id of the process to trace (optional)" },
    { name: "tid", short: "t", long: "tid", kind: "value", parse: "uint", help: "id of the thread to trace (optional)" },
    { name: "stringSize", short: "z", long: "string-size", kind: "value", metavar: "STRING_SIZE", parse: "uint", default: DEFAULT_STRING_SIZE, help: `maximum string size to read from char* arguments (at most ${MAX_STRING})` },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, default: 1, help: "output interval, in seconds (default 1 second)" },
    { name: "duration", short: "d", long: "duration", kind: "value", parse: positiveNumber, help: "total duration of trace, in seconds" },
    { name: "number", short: "n", long: "number", kind: "value", parse: positiveInt, help: "number of outputs" },
    { name: "verbose", short: "v", long: "verbose", kind: "count", help: "print resulting BPF program code before executing" },
    { name: "cumulative", short: "c", long: "cumulative", kind: "flag", help: "do not clear histograms and freq counts at each interval" },
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, help: "number of top results to show (not applicable to histograms)" },
    { name: "histogram", short: "H", long: "histogram", kind: "list", metavar: "specifier", help: "probe specifier to capture histogram of (see examples below)" },
    { name: "count", short: "C", long: "count", kind: "list", metavar: "specifier", help: "probe specifier to capture count of (see examples below)" },
    { name: "include", short: "I", long: "include", kind: "list", metavar: "header", help: "additional header to include in the BPF program: a file path (or relative to the current directory), or a kernel header name such as linux/sched.h (kernel types come from BTF)" },
  ],
  examples: [
    ["tsbcc argdist -H 'p::__kmalloc(u64 size):u64:size'", "histogram of kmalloc sizes (needs kprobes)"],
    ["tsbcc argdist -p 1005 -H 'p:c:malloc(size_t size):size_t:size'", "histogram of malloc sizes in process 1005"],
    ["tsbcc argdist -C 'p:c:write(int fd):int:fd'", "count of the fds written to"],
    ["tsbcc argdist -C 'r:c:read():int:$retval:$retval < 0'", "count of read() errors by return value"],
    ["tsbcc argdist -H 't:block:block_rq_issue():u32:args->bytes'", "histogram of block I/O sizes from a tracepoint"],
    ["tsbcc argdist -C 't:syscalls:sys_enter_kill():int:args->sig#signals sent'", "signals sent, with a label"],
    ["tsbcc argdist -C 'p:c:puts(char *s):char*:s'", "count of each string passed to puts()"],
    ["tsbcc argdist -H 'r:c:usleep():u64:$latency'", "histogram of usleep() latency in nanoseconds"],
    ["tsbcc argdist -H 'r:c:read(int fd, void *buf, size_t n):size_t:$entry(n):$latency > 1000000'", "sizes of reads that took over 1 ms"],
    ["tsbcc argdist -C 'p:c:write(int fd, char *buf, size_t n):int,size_t:fd,n'", "count of (fd, size) pairs written"],
    ["tsbcc argdist -p 1337 -C 'u:pthread:pthread_start():u64:arg2'", "start functions of new threads in process 1337 (libc's USDT probe pthread_start)"],
    ["tsbcc argdist -H 'u:/usr/lib/x86_64-linux-gnu/libc.so.6:memory_sbrk_more():u64:arg2'", "histogram of the sizes libc's sbrk grows the heap by (USDT argument 2)"],
    ["tsbcc argdist -I linux/sched.h -C 't:sched:sched_process_fork():int:((struct task_struct *)bpf_get_current_task())->prio'", "an extra header; the cast struct comes from BTF"],
  ],
};

/** BCC's count table: "COUNT EVENT" rows ("expr = value, ..."), smallest first (the `top` largest with -T). */
function formatCounts(m: CounterMetric, s: ArgdistSpecifier, top?: number): string {
  let rows = [...m.series].sort((a, b) => a.value - b.value);
  if (top !== undefined) rows = rows.slice(-top);
  const event = (labels: Record<string, string>): string => {
    if (s.defaultExpr) return s.probe.startsWith("r:") ? `retval = ${labels.value}` : "total calls";
    return s.exprs.map((e, j) => `${e.expr} = ${labels[j === 0 ? "value" : `value${j + 1}`]}`).join(", ");
  };
  return `${s.label ?? s.text}\n\t${"COUNT".padEnd(10)} EVENT\n${rows.map((r) => `\t${String(r.value).padEnd(10)} ${event(r.labels)}\n`).join("")}`;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const opts: ArgdistOptions = { histograms: o.histogram, counts: o.count, pid: o.pid, tid: o.tid, stringSize: o.stringSize, cumulative: o.cumulative, interval: o.interval, count: o.number, duration: o.duration, includes: o.include.length ? o.include : undefined, signal: run.signal };
  if (o.verbose) run.err.write(argdistProgramText(opts) + "\n");
  const stream = await argdist(opts);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    let text = `[${new Date(r.time).toTimeString().slice(0, 8)}]\n`;
    r.metrics.forEach((m, i) => {
      const s = stream.specifiers[i]!;
      // As BCC: a histogram is headed by its column label only (the label, or the expression), counts by the specifier.
      text += m.kind === "histogram" ? formatHistogramMetric(m as HistogramMetric, undefined, m.unit) : formatCounts(m as CounterMetric, s, o.top);
    });
    run.out.write(text);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
