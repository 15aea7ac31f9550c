// cpudist: how long tasks run on a CPU before switching out (or, with -O, how long they stay off it), as a log2
// histogram per interval, from the sched_switch raw tracepoint.
import { UsageError } from "./lib/errors.js";
import { addSums, formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport, type Labels } from "./lib/metrics.js";
import { intervalPositionals, pidOption, millisecondsOption, perProcessOption, perThreadOption, timeOption, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "cpudist";

export interface CpudistOptions extends IntervalOptions {
  /** Off-CPU time instead of on-CPU time. */
  offcpu?: boolean;
  pid?: number;
  milliseconds?: boolean;
  by?: "pid" | "tid";
  /** Count the idle task (pid 0) too. */
  includeIdle?: boolean;
}

const SOURCES = [{ kind: "raw_tracepoint", targets: ["sched:sched_switch"] }] as const;

function program(o: CpudistOptions, k: ToolConstants): string {
  const key = (t: string): string => (o.by === "pid" ? `${t}->tgid` : o.by === "tid" ? `${t}->pid` : "0");
  // On-CPU: a task's time ends when it switches out (prev) and starts when it switches in (next); off-CPU the
  // other way round.
  const [ends, begins] = o.offcpu ? ["next", "prev"] : ["prev", "next"];
  return `
#include <linux/sched.h>

${k.u32("FILTER_PID", o.pid ?? 0)}
#define INCLUDE_IDLE ${o.includeIdle ? 1 : 0}
#define UNIT_NS ${o.milliseconds ? 1000000 : 1000}

struct hist_key_t {
    u64 key;
    u64 slot;
};

struct ext_t {
    u64 total;
    u64 count;
};

BPF_HASH(start, u32, u64, 10240);
BPF_HISTOGRAM(dist, struct hist_key_t, 4096);
BPF_HASH(ext, u64, struct ext_t, 4096);

static int wanted(struct task_struct *t) {
    if (!INCLUDE_IDLE && t->pid == 0) return 0;
    if (FILTER_PID && t->tgid != FILTER_PID) return 0;
    return 1;
}

RAW_TRACEPOINT_PROBE(sched_switch) {
    struct task_struct *prev = (struct task_struct *)ctx->args[1];
    struct task_struct *next = (struct task_struct *)ctx->args[2];
    u64 now = bpf_ktime_get_ns();
    if (wanted(${ends})) {
        u32 tid = ${ends}->pid;
        u64 *tsp = start.lookup(&tid);
        if (tsp) {
            u64 delta = (now - *tsp) / UNIT_NS;
            struct hist_key_t hk = {};
            hk.key = ${key(ends)};
            hk.slot = bpf_log2l(delta);
            dist.atomic_increment(hk);
            struct ext_t zero = {};
            struct ext_t *e = ext.lookup_or_try_init(&hk.key, &zero);
            if (e) {
                __sync_fetch_and_add(&e->total, delta);
                __sync_fetch_and_add(&e->count, 1);
            }
        }
    }
    if (wanted(${begins})) {
        u32 tid = ${begins}->pid;
        start.update(&tid, &now);
    }
    return 0;
}
`;
}

/** cpudist as a library: one IntervalReport per interval with the "cpu_time" (or "offcpu_time") histogram. */
export async function cpudist(opts: CpudistOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  if (opts.by !== undefined && !["pid", "tid"].includes(opts.by)) throw new UsageError(NAME, `by must be "pid" or "tid", got ${String(opts.by)}`);
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  const dist = b.table("dist");
  const ext = b.table("ext");
  const unit = opts.milliseconds ? "msecs" : "usecs";
  const labels = (key: number | bigint): Labels => (opts.by ? { [opts.by]: String(key) } : {});
  const collect = (seconds: number): IntervalReport => {
    const series = readSlots(dist, (k) => ({ labels: labels(k.key), slot: Number(k.slot) }));
    addSums(series, ext, labels);
    const name = opts.offcpu ? "offcpu_time" : "oncpu_time";
    return report(NAME, seconds, [histogramMetric({ name, unit, help: opts.offcpu ? "time tasks spent off a CPU" : "time tasks ran on a CPU per switch" }, series.values())]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize on- and off-CPU time per task as a histogram.",
  json: "interval",
  sources: SOURCES,
  options: [
    { name: "offcpu", short: "O", long: "offcpu", kind: "flag", help: "measure off-CPU time" },
    timeOption(),
    millisecondsOption(),
    perProcessOption(),
    perThreadOption(),
    pidOption(),
    { name: "includeIdle", short: "I", long: "include-idle", kind: "flag", help: "include CPU idle time" },
    { name: "extension", short: "e", long: "extension", kind: "flag", help: "show extension summary (average/total/count)" },
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc cpudist", "summarize on-CPU time as a histogram"],
    ["tsbcc cpudist -O", "summarize off-CPU time as a histogram"],
    ["tsbcc cpudist 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc cpudist -mT 1", "1s summaries, milliseconds, and timestamps"],
    ["tsbcc cpudist -P", "show each PID separately"],
    ["tsbcc cpudist -p 185", "trace PID 185 only"],
    ["tsbcc cpudist -I", "include CPU idle time"],
    ["tsbcc cpudist -e", "show extension summary (average/total/count)"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.pids && o.tids) throw new UsageError(NAME, "argument -L/--tids: not allowed with argument -P/--pids");
  const by = o.pids ? "pid" : o.tids ? "tid" : undefined;
  const stream = await cpudist({
    offcpu: o.offcpu, pid: o.pid, milliseconds: o.milliseconds, by, includeIdle: o.includeIdle, interval: o.interval, count: o.count, signal: run.signal,
  }, run.source);
  if (!run.json) run.out.write(`Tracing ${o.offcpu ? "off" : "on"}-CPU time... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, section: by ? (l) => `${by} = ${l[by]}` : undefined, extension: o.extension }));
  }
  return 0;
}

export const tool: CliTool = { spec, main };
