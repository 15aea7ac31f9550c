// funccount: counts calls of functions (user functions by uprobe, kernel functions by kprobe where the kernel has
// them), tracepoint hits and USDT probe firings matching a pattern, per interval, as BCC's FUNC/COUNT table.
import { UsageError } from "./lib/errors.js";
import { clock } from "./lib/format.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { positiveNumber } from "./lib/options.js";
import { attachPlan, parseProbeSpec, pidFilter, planProbes, probeFunction, type ProbePlan } from "./lib/probe-spec.js";
import { attachToolProgram, intervalStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "funccount";

export interface FunccountOptions extends Omit<StreamOptions, "source"> {
  /** BCC's pattern: "c:malloc", "t:sched:sched_fork", "u:node:gc*", "./bin:read*", "vfs_*" (kprobes). */
  pattern: string;
  /** The pattern is a regular expression (default: "*" wildcards). */
  regexp?: boolean;
  pid?: number;
  cpu?: number;
  interval?: number;
  count?: number;
}

function program(plan: ProbePlan, o: FunccountOptions): string {
  const cpu = o.cpu === undefined ? "" : `    if (bpf_get_smp_processor_id() != ${o.cpu}) return 0;\n`;
  return `BPF_ARRAY(counts, u64, ${plan.targets.length});\n` + plan.targets.map((t, i) => probeFunction(plan, t,
    `${pidFilter(o.pid)}${cpu}    int slot = ${i};\n    u64 *n = counts.lookup(&slot);\n    if (n) __sync_fetch_and_add(n, 1);`)).join("\n");
}

/** The plan for `opts` (targets resolved on this machine); thrown errors are UsageError or NoEventSourceError. */
function plan(opts: FunccountOptions): ProbePlan {
  if (opts === null || typeof opts !== "object") throw new UsageError(NAME, "options are required ({ pattern })");
  for (const k of ["pid", "cpu"] as const) if (opts[k] !== undefined && (!Number.isInteger(opts[k]) || opts[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${opts[k]}`);
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  return planProbes(NAME, parseProbeSpec(NAME, opts.pattern, ["p", "t", "u"]), { pid: opts.pid, regexp: opts.regexp, prefix: "count" });
}

/** funccount as a library: IntervalReports with the "calls" counter, one series per function/event/probe. */
export async function funccount(opts: FunccountOptions): Promise<ToolStream<IntervalReport> & { targets: string[] }> {
  const p = plan(opts);
  const b = await loadToolProgram(NAME, program(p, opts), p.usdt ? { usdtContexts: [p.usdt] } : {});
  attachToolProgram(NAME, b, (x) => attachPlan(x, p, { pid: opts.pid }));
  const counts = b.table<any>("counts");
  const collect = (seconds: number): IntervalReport => {
    const values = p.targets.map((t, i) => ({ labels: { function: t.name }, value: toNumber((counts.get(i) as bigint | undefined) ?? 0n) }));
    counts.clear();
    const metric: CounterMetric = { kind: "counter", name: "calls", unit: "count", help: `calls of ${p.spec.text}`, series: values.filter((v) => v.value > 0) };
    return report(NAME, seconds, [metric]);
  };
  return Object.assign(intervalStream(p.source, opts, collect, () => b.close()), { targets: p.targets.map((t) => t.name) });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Count functions, tracepoints, and USDT probes",
  json: "interval",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "trace this PID only" },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, help: "summary interval, seconds" },
    { name: "duration", short: "d", long: "duration", kind: "value", parse: positiveNumber, help: "total duration of trace, seconds" },
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "include timestamp on output" },
    { name: "regexp", short: "r", long: "regexp", kind: "flag", help: "use regular expressions. Default is \"*\" wildcards only." },
    { name: "debug", short: "D", long: "debug", kind: "flag", help: "print BPF program before starting (for debugging purposes)" },
    { name: "cpu", short: "c", long: "cpu", kind: "value", parse: "uint", help: "trace this CPU only" },
  ],
  positionals: [{ name: "pattern", required: true, help: "search expression for events" }],
  examples: [
    ["tsbcc funccount 'vfs_*'", "count kernel fns starting with \"vfs\" (needs kprobes)"],
    ["tsbcc funccount -r '^vfs.*'", "same as above, using regular expressions"],
    ["tsbcc funccount -Ti 5 'vfs_*'", "output every 5 seconds, with timestamps"],
    ["tsbcc funccount -d 10 'vfs_*'", "trace for 10 seconds only"],
    ["tsbcc funccount t:sched:sched_fork", "count calls to the sched_fork tracepoint"],
    ["tsbcc funccount 't:syscalls:sys_enter_get*'", "count syscall entry tracepoints starting with get"],
    ["tsbcc funccount -p 185 'u:node:gc*'", "count all GC USDT probes in node, PID 185"],
    ["tsbcc funccount c:malloc", "count all malloc() calls in libc"],
    ["tsbcc funccount ./test:read*", "count \"read*\" calls in the ./test binary"],
    ["tsbcc funccount -c 1 't:sched:*'", "count scheduler tracepoints on CPU 1 only"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const opts: FunccountOptions = { pattern: o.pattern, regexp: o.regexp, pid: o.pid, cpu: o.cpu, interval: o.interval, duration: o.duration, signal: run.signal };
  if (o.debug) run.err.write(program(plan(opts), opts) + "\n");
  const stream = await funccount(opts);
  if (!run.json) run.out.write(`Tracing ${stream.targets.length} functions for "${o.pattern}"... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    let text = "\n";
    if (o.timestamp) text += `${clock()}\n`;
    text += `${"FUNC".padEnd(36)} ${"COUNT".padStart(8)}\n`;
    const rows = [...(r.metrics[0] as CounterMetric).series].sort((a, b) => a.value - b.value);
    for (const s of rows) text += `${s.labels.function!.padEnd(36)} ${String(s.value).padStart(8)}\n`;
    run.out.write(text);
  }
  if (!run.json) run.out.write("Detaching...\n");
  return 0;
}

export const tool: CliTool = { spec, main };
