// bitesize: block I/O sizes as a log2 histogram (Kbytes) per process name, printed at Ctrl-C, from the
// block:block_rq_issue tracepoint (which carries the issuing comm and the size).
import { formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import { UsageError } from "./lib/errors.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "bitesize";

export type BitesizeOptions = IntervalOptions;

const SOURCES = [{ kind: "tracepoint", targets: ["block:block_rq_issue"] }] as const;

const PROGRAM = `
struct size_key_t {
    char comm[TASK_COMM_LEN];
    u64 slot;
};

BPF_HISTOGRAM(dist, struct size_key_t, 4096);

TRACEPOINT_PROBE(block, block_rq_issue) {
    struct size_key_t k = {};
    #pragma unroll
    for (int i = 0; i < TASK_COMM_LEN; i++) k.comm[i] = args->comm[i];
    k.slot = bpf_log2l(args->bytes / 1024);
    dist.atomic_increment(k);
    return 0;
}
`;

/** bitesize as a library: IntervalReports with the "block_io_size" histogram (Kbytes) per process name. */
export async function bitesize(opts: BitesizeOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, PROGRAM);
  const dist = b.table("dist");
  const collect = (seconds: number): IntervalReport => report(NAME, seconds, [histogramMetric(
    { name: "block_io_size", unit: "Kbytes", help: "block I/O size per process name" },
    readSlots(dist, (k) => ({ labels: { comm: k.comm }, slot: Number(k.slot) })).values())]);
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Show block device I/O size as a histogram per process name",
  json: "interval",
  sources: SOURCES,
  options: [],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc bitesize", "block I/O sizes per process, printed at Ctrl-C"],
    ["tsbcc bitesize 5 1", "after 5 seconds (tsbcc)"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await bitesize({ interval: o.interval, count: o.count, signal: run.signal }, run.source);
  if (!run.json) run.out.write("Tracing block I/O... Hit Ctrl-C to end.\n");
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { section: (l) => `Process Name = ${l.comm}` }));
  }
  return 0;
}

export const tool: CliTool = { spec, main };
