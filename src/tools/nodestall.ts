// nodestall: event-loop stalls of a Node.js process. The main thread (tid == pid) is idle inside epoll_wait /
// epoll_pwait(2); the time from one return of that call to the next entry is time the loop was busy running
// callbacks, and a long one is a stall. The syscall tracepoints time every busy stretch into a log2 histogram; a
// cpu-clock perf event samples the main thread's user stack while it is busy, so the worst stalls come with the
// JS + native stack that ran (JS names from the perf map of `node --perf-basic-prof`).
import { BPF, PerfSWConfig, PerfType } from "../index.js";
import { symbolizeStack } from "../symbols/index.js";
import { UsageError } from "./lib/errors.js";
import { formatHistogramMetric, histogramMetric, readSlots } from "./lib/histogram.js";
import type { HistogramMetric } from "./lib/metrics.js";
import { intervalPositionals, positiveInt } from "./lib/options.js";
import { chooseSource } from "./lib/source.js";
import { stackStream } from "./lib/stacks.js";
import { attachToolProgram, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "nodestall";
const CALLS = ["epoll_wait", "epoll_pwait", "epoll_pwait2"];
const SOURCES = [{ kind: "tracepoint", targets: CALLS.flatMap((c) => [`syscalls:sys_enter_${c}?`, `syscalls:sys_exit_${c}?`]) }] as const;

export interface NodestallOptions extends StreamOptions {
  /** The node process (its main thread runs the event loop). */
  pid: number;
  /** Histogram unit (default msecs). */
  unit?: "usecs" | "msecs";
  /** Stalls at least this long (ms) are kept with their stacks (default 10). */
  minStallMs?: number;
  /** How many of the worst stalls to report (default 5). */
  top?: number;
  /** Stack samples per second while the loop is busy (default 99). */
  frequency?: number;
  interval?: number;
  count?: number;
}

export interface Stall {
  durationMs: number;
  /** When it ended (ISO 8601). */
  time: string;
  /** The stack sampled most often during the stall, innermost first ([] when it was too short to be sampled). */
  stack: string[];
  samples: number;
}

export interface NodestallReport {
  time: string;
  histogram: HistogramMetric;
  stalls: Stall[];
}

function program(o: NodestallOptions, targets: string[]): string {
  const div = o.unit === "usecs" ? 1000 : 1000000;
  const probes = CALLS.filter((c) => targets.includes(`syscalls:sys_enter_${c}`) && targets.includes(`syscalls:sys_exit_${c}`)).map((c) => `
TRACEPOINT_PROBE(syscalls, sys_enter_${c}) { return loop_idle(); }
TRACEPOINT_PROBE(syscalls, sys_exit_${c}) { return loop_busy(); }`).join("\n");
  return `
#include <uapi/linux/bpf_perf_event.h>
struct state_t { u64 busy_since; u64 seq; };
struct stall_t { u64 end_ns; u64 duration_ns; };
struct sample_key_t { u64 seq; int stack_id; };
BPF_ARRAY(state, struct state_t, 1);
BPF_HISTOGRAM(dist, u64, 64);
BPF_HASH(samples, struct sample_key_t, u64, 10240);
BPF_STACK_TRACE(stack_traces, 4096);
BPF_HASH(stalls, u64, struct stall_t, 4096);

static int main_thread(void) { return (u32)bpf_get_current_pid_tgid() == ${o.pid}; }

static int loop_busy(void) {
    if (!main_thread()) return 0;
    int zero = 0;
    struct state_t *s = state.lookup(&zero);
    if (!s) return 0;
    s->busy_since = bpf_ktime_get_ns();
    s->seq++;
    return 0;
}

static int loop_idle(void) {
    if (!main_thread()) return 0;
    int zero = 0;
    struct state_t *s = state.lookup(&zero);
    if (!s || !s->busy_since) return 0;
    u64 delta = bpf_ktime_get_ns() - s->busy_since;
    s->busy_since = 0;
    dist.atomic_increment(bpf_log2l(delta / ${div}));
    if (delta >= ${(o.minStallMs ?? 10) * 1000000}ULL) {
        struct stall_t ev = { bpf_ktime_get_ns(), delta };
        u64 seq = s->seq;
        stalls.update(&seq, &ev);
    }
    return 0;
}
${probes}

int on_sample(struct bpf_perf_event_data *ctx) {
    if (!main_thread()) return 0;
    int zero = 0;
    struct state_t *s = state.lookup(&zero);
    if (!s || !s->busy_since) return 0;
    struct sample_key_t k = { s->seq, stack_traces.get_stackid(&ctx->regs, BPF_F_USER_STACK) };
    samples.increment(k);
    return 0;
}
`;
}

function check(o: NodestallOptions): void {
  const bad = (m: string): never => { throw new UsageError(NAME, m); };
  if (o === null || typeof o !== "object" || !Number.isInteger(o.pid) || o.pid <= 0) bad(`pid must be a positive integer (the node process), got ${String(o?.pid)}`);
  for (const k of ["minStallMs", "top", "frequency"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < (k === "minStallMs" ? 0 : 1))) bad(`${k} must be a ${k === "minStallMs" ? "non-negative" : "positive"} integer, got ${o[k]}`);
  if (o.unit !== undefined && o.unit !== "usecs" && o.unit !== "msecs") bad(`unit must be usecs or msecs, got ${String(o.unit)}`);
}

/** nodestall as a library: a NodestallReport every interval, or one when it stops. */
export async function nodestall(opts: NodestallOptions): Promise<ToolStream<NodestallReport>> {
  check(opts);
  const source = chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts, source.targets));
  BPF.rememberProcess(opts.pid);
  attachToolProgram(NAME, b, (x) => x.attachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK, sampleFreq: opts.frequency ?? 99, fnName: "on_sample" }));
  const unit = opts.unit ?? "msecs";
  const collect = (): NodestallReport => {
    const bootNs = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
    const all = [...b.table<any>("stalls") as Iterable<[bigint, { end_ns: bigint; duration_ns: bigint }]>].map(([seq, v]) =>
      ({ seq: Number(seq), durationNs: Number(v.duration_ns), time: new Date(Number((bootNs + v.end_ns) / 1000000n)).toISOString() }));
    b.table<any>("stalls").clear();
    const worst = all.sort((x, y) => y.durationNs - x.durationNs).slice(0, opts.top ?? 5);
    const bySeq = new Map<number, Map<number, number>>();
    for (const [k, v] of b.table<any>("samples") as Iterable<[{ seq: bigint; stack_id: number }, bigint]>) {
      const seq = Number(k.seq);
      let m = bySeq.get(seq);
      if (!m) bySeq.set(seq, (m = new Map()));
      m.set(Number(k.stack_id), (m.get(Number(k.stack_id)) ?? 0) + Number(v));
    }
    const table = b.table<any>("stack_traces");
    const stalls = worst.map((s): Stall => {
      const ids = [...(bySeq.get(s.seq) ?? new Map<number, number>())].filter(([id]) => id >= 0).sort((x, y) => y[1] - x[1]);
      const samples = ids.reduce((n, [, c]) => n + c, 0);
      return { durationMs: s.durationNs / 1e6, time: s.time, samples, stack: ids.length ? symbolizeStack(table, ids[0]![0], { pid: opts.pid }) : [] };
    });
    b.table<any>("samples").clear();
    const histogram = histogramMetric({ name: "event_loop_busy", unit, help: "time the event loop spent between two polls" }, readSlots(b.table<any>("dist")).values());
    return { time: new Date().toISOString(), histogram, stalls };
  };
  return stackStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Time a Node.js event loop's stalls (busy time between polls) with the stacks of the worst",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "the node process to watch (required)" },
    { name: "milliseconds", short: "m", long: "milliseconds", kind: "flag", help: "millisecond histogram (default)" },
    { name: "microseconds", short: "u", long: "microseconds", kind: "flag", help: "microsecond histogram" },
    { name: "minStall", short: "M", long: "min-stall", kind: "value", parse: "uint", default: 10, help: "keep stalls of at least this many ms with their stacks (default 10)" },
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, default: 5, help: "show this many of the worst stalls (default 5)" },
    { name: "frequency", short: "F", long: "frequency", kind: "value", parse: positiveInt, default: 99, help: "stack samples per second while the loop is busy (default 99)" },
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc nodestall -p $(pgrep -n node)", "busy-time histogram and the worst stalls at Ctrl-C"],
    ["tsbcc nodestall -p 185 5", "every 5 seconds"],
    ["tsbcc nodestall -u -M 1 -p 185", "microsecond histogram, keep stalls from 1 ms"],
    ["node --perf-basic-prof app.js", "run node so that JS functions have names in the stacks"],
  ],
};

function formatReport(r: NodestallReport): string {
  let text = `\n${formatHistogramMetric(r.histogram)}`;
  if (r.stalls.length === 0) return text;
  text += `\nWorst stalls:\n`;
  for (const s of r.stalls) {
    text += `  ${s.durationMs.toFixed(2)} ms at ${s.time.slice(11, 23)}, ${s.samples} stack samples\n`;
    text += s.stack.length ? s.stack.map((f) => `    ${f}\n`).join("") : "    [no stack sample: shorter than the sampling period]\n";
  }
  return text;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.pid === undefined) throw new UsageError(NAME, "the following arguments are required: -p/--pid");
  if (o.microseconds && o.milliseconds) throw new UsageError(NAME, "argument -u/--microseconds: not allowed with argument -m/--milliseconds");
  const stream = await nodestall({ pid: o.pid, unit: o.microseconds ? "usecs" : "msecs", minStallMs: o.minStall, top: o.top, frequency: o.frequency,
    interval: o.interval, count: o.count, signal: run.signal });
  if (!run.json) run.out.write(`Tracing event loop stalls of PID ${o.pid}... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else run.out.write(formatReport(r));
  }
  return 0;
}

export const tool: CliTool = { spec, main };
