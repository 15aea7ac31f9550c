// runqlat: how long runnable tasks wait for a CPU, as a log2 histogram per interval (per process, thread or pid
// namespace on request), from the sched_wakeup/sched_wakeup_new/sched_switch raw tracepoints.
import { UsageError } from "./lib/errors.js";
import { formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport, type Labels } from "./lib/metrics.js";
import { intervalPositionals, pidOption, millisecondsOption, perProcessOption, perThreadOption, timeOption, type IntervalOptions } from "./lib/options.js";
import { RUNQ_SOURCES, runqProgram } from "./lib/runq-program.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "runqlat";

export interface RunqlatOptions extends IntervalOptions {
  pid?: number;
  milliseconds?: boolean;
  /** One histogram per process, per thread, or per pid namespace. */
  by?: "pid" | "tid" | "pidns";
}

function program(o: RunqlatOptions, k: ToolConstants): string {
  const keyExpr = o.by === "pid" ? "next->tgid" : o.by === "tid" ? "next->pid" : o.by === "pidns" ? "next->nsproxy->pid_ns_for_children->ns.inum" : "0";
  return runqProgram(k, { pid: o.pid }, `
struct hist_key_t {
    u64 key;
    u64 slot;
};
BPF_HISTOGRAM(dist, struct hist_key_t, 4096);
`, `
    struct hist_key_t hk = {};
    hk.key = ${keyExpr};
    hk.slot = bpf_log2l(delta_ns / ${o.milliseconds ? 1000000 : 1000});
    dist.atomic_increment(hk);
`);
}

/** runqlat as a library: one IntervalReport per interval with the "runq_latency" histogram. */
export async function runqlat(opts: RunqlatOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  if (opts.by !== undefined && !["pid", "tid", "pidns"].includes(opts.by)) throw new UsageError(NAME, `by must be "pid", "tid" or "pidns", got ${String(opts.by)}`);
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  const source = chosen ?? chooseSource(NAME, RUNQ_SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  const dist = b.table("dist");
  const unit = opts.milliseconds ? "msecs" : "usecs";
  const labels = (k: { key: number | bigint }): Labels => (opts.by ? { [opts.by]: String(k.key) } : {});
  const collect = (seconds: number): IntervalReport =>
    report(NAME, seconds, [histogramMetric({ name: "runq_latency", unit, help: "time runnable tasks waited for a CPU" },
      readSlots(dist, (k) => ({ labels: labels(k), slot: Number(k.slot) })).values())]);
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize run queue (scheduler) latency as a histogram",
  json: "interval",
  sources: RUNQ_SOURCES,
  options: [
    timeOption(),
    millisecondsOption(),
    perProcessOption(),
    { name: "pidnss", long: "pidnss", kind: "flag", help: "print a histogram per PID namespace" },
    perThreadOption(),
    pidOption(),
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc runqlat", "summarize run queue latency as a histogram"],
    ["tsbcc runqlat 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc runqlat -mT 1", "1s summaries, milliseconds, and timestamps"],
    ["tsbcc runqlat -P", "show each PID separately"],
    ["tsbcc runqlat -p 185", "trace PID 185 only"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const chosen = [o.pids && "pid", o.tids && "tid", o.pidnss && "pidns"].filter(Boolean) as Array<"pid" | "tid" | "pidns">;
  if (chosen.length > 1) throw new UsageError(NAME, "argument -P/--pids, -L/--tids and --pidnss are mutually exclusive");
  const stream = await runqlat({ pid: o.pid, milliseconds: o.milliseconds, by: chosen[0], interval: o.interval, count: o.count, signal: run.signal }, run.source);
  if (!run.json) run.out.write("Tracing run queue latency... Hit Ctrl-C to end.\n");
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else {
      const by = chosen[0];
      run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, section: by ? (l) => `${by} = ${l[by]}` : undefined }));
    }
  }
  return 0;
}

export const tool: CliTool = { spec, main };
