// runqlen: run queue length sampled per CPU (a cpu-clock perf event at 99 Hz on every CPU) as a linear histogram:
// the sampled CPU's CFS queue length through the current task's sched_entity (BTF), minus the running task, so
// 0 means nothing was waiting. -O prints the occupancy (how often anything was waiting), -C one histogram per CPU.
import { PerfSWConfig, PerfType } from "../index.js";
import { ToolProgramError, UsageError } from "./lib/errors.js";
import { clock } from "./lib/format.js";
import { formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { attachToolProgram, intervalStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { BPF } from "../index.js";

const NAME = "runqlen";
const SOURCES = [{ kind: "perf_event", targets: ["software:cpu-clock"] }] as const;
const FREQUENCY = 99;

export interface RunqlenOptions extends StreamOptions {
  /** One histogram per CPU. */
  perCpu?: boolean;
  interval?: number;
  count?: number;
}

/** The queue length field: nr_queued since Linux 6.14, nr_running before (tried in that order). */
function program(field: string): string {
  return `
#include <uapi/linux/bpf_perf_event.h>
#include <linux/sched.h>
struct key_t {
    u64 cpu;
    u64 slot;
};
BPF_HISTOGRAM(dist, struct key_t, 4096);

int on_cpu_clock(struct bpf_perf_event_data *ctx) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct cfs_rq *q = task->se.cfs_rq;
    unsigned int len = q->${field};
    // The running task is counted in the queue: without it, 0 means nothing was waiting.
    if (len > 0) len--;
    struct key_t key = { bpf_get_smp_processor_id(), len > 100 ? 100 : len };
    dist.atomic_increment(key);
    return 0;
}
`;
}

async function load(): Promise<BPF> {
  try {
    return await loadToolProgram(NAME, program("nr_queued"));
  } catch (e) {
    if (!(e instanceof ToolProgramError)) throw e;
    return await loadToolProgram(NAME, program("nr_running"));
  }
}

/** runqlen as a library: IntervalReports with the "runq_length" linear histogram (and the "runq_occupancy" gauge). */
export async function runqlen(opts: RunqlenOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await load();
  attachToolProgram(NAME, b, (x) => x.attachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK, sampleFreq: FREQUENCY, fnName: "on_cpu_clock" }));
  const collect = (seconds: number): IntervalReport => {
    const series = readSlots(b.table<any>("dist"), (k): { labels: Record<string, string>; slot: number } => ({ labels: opts.perCpu ? { cpu: String(k.cpu) } : {}, slot: Number(k.slot) }));
    const hist = histogramMetric({ name: "runq_length", unit: "runqlen", help: "tasks waiting in the CPU's run queue, sampled", scale: "linear", step: 1 }, series.values());
    const occupancy = [...series.values()].map((s) => {
      const total = s.slots.reduce((n, c) => n + c, 0);
      return { labels: s.labels, value: total ? (100 * (total - (s.slots[0] ?? 0))) / total : 0 };
    });
    return report(NAME, seconds, [hist, { kind: "gauge", name: "runq_occupancy", unit: "percent", help: "share of samples with a task waiting", series: occupancy }]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize scheduler run queue length as a histogram",
  json: "interval",
  sources: SOURCES,
  options: [
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "include timestamp on output" },
    { name: "runqocc", short: "O", long: "runqocc", kind: "flag", help: "report run queue occupancy" },
    { name: "cpus", short: "C", long: "cpus", kind: "flag", help: "print output for each CPU separately" },
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc runqlen", "summarize run queue length as a histogram"],
    ["tsbcc runqlen 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc runqlen -T 1", "1s summaries and timestamps"],
    ["tsbcc runqlen -O", "report run queue occupancy"],
    ["tsbcc runqlen -C", "show each CPU separately"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await runqlen({ perCpu: o.cpus, interval: o.interval, count: o.count, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`Sampling run queue length... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    if (o.runqocc) {
      let text = `\n${o.timestamp ? `${clock()}\n` : ""}`;
      for (const s of (r.metrics[1] as { series: { labels: Record<string, string>; value: number }[] }).series) {
        text += `${s.labels.cpu !== undefined ? `runqocc, CPU ${s.labels.cpu.padEnd(3)} ` : "runqocc: "}${s.value.toFixed(2)}%\n`;
      }
      run.out.write(text);
    } else {
      run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, section: o.cpus ? (l) => `cpu = ${l.cpu}` : undefined }));
    }
  }
  return 0;
}

export const tool: CliTool = { spec, main };
