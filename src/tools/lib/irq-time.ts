// What softirqs and hardirqs share: time (or count) spent per interrupt kind, summed or as log2 histograms, per
// interval, on the irq:* tracepoints; the per-CPU entry timestamp pairs each exit with its entry. Each tool gives
// its tracepoints and how a kind is keyed (softirq vector, or handler name).
import { UsageError } from "./errors.js";
import { clock, left, right } from "./format.js";
import { formatHistogramReport, histogramMetric, readSlots } from "./histogram.js";
import { report, toNumber, type CounterMetric, type HistogramMetric, type IntervalReport, type Labels } from "./metrics.js";
import { intervalPositionals, timeOption, type IntervalOptions } from "./options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./stream.js";
import type { OptionSpec } from "./args.js";
import type { HashTable } from "../../index.js";
import type { ToolRun } from "./tool.js";
import type { ToolConstants } from "./constants.js";

export interface IrqTimeOptions extends IntervalOptions {
  /** "time" sums the time (default), "count" counts events, "dist" makes histograms. */
  mode?: "time" | "count" | "dist";
  nanoseconds?: boolean;
  /** Only this CPU. */
  cpu?: number;
}

export interface IrqKind {
  tool: string;
  sources: readonly SourceCandidate[];
  /** C: the key struct's kind member declaration, e.g. "u64 vec;" or "char name[32];". */
  kindMember: string;
  /** C run in the entry tracepoint: fill `s->kind` (the per-CPU start slot). */
  fillKind: string;
  entry: string;
  exit: string;
  /** The metric's name and its label for a kind. */
  metric: string;
  label: string;
  kindName(raw: any): string;
}

function program(k: IrqKind, o: IrqTimeOptions, c: ToolConstants): string {
  const [entryCat, entryEvt] = k.entry.split(":");
  const [exitCat, exitEvt] = k.exit.split(":");
  return `
${c.s32("ONLY_CPU", o.cpu ?? -1)}
#define MODE_DIST ${o.mode === "dist" ? 1 : 0}
#define UNIT_NS ${o.nanoseconds ? 1 : 1000}

struct kind_t {
    ${k.kindMember}
};

struct start_t {
    u64 ts;
    struct kind_t kind;
};

struct hist_key_t {
    struct kind_t kind;
    u64 slot;
};

struct total_t {
    u64 time;
    u64 count;
};

BPF_PERCPU_ARRAY(start, struct start_t, 1);
BPF_HISTOGRAM(dist, struct hist_key_t, 1024);
BPF_HASH(totals, struct kind_t, struct total_t, 1024);

TRACEPOINT_PROBE(${entryCat}, ${entryEvt}) {
    if (ONLY_CPU >= 0 && bpf_get_smp_processor_id() != ONLY_CPU) return 0;
    int zero = 0;
    struct start_t *s = start.lookup(&zero);
    if (!s) return 0;
    ${k.fillKind}
    s->ts = bpf_ktime_get_ns();
    return 0;
}

TRACEPOINT_PROBE(${exitCat}, ${exitEvt}) {
    int zero = 0;
    struct start_t *s = start.lookup(&zero);
    if (!s || s->ts == 0) return 0;
    u64 delta = (bpf_ktime_get_ns() - s->ts) / UNIT_NS;
    s->ts = 0;
    if (MODE_DIST) {
        struct hist_key_t hk = {};
        hk.kind = s->kind;
        hk.slot = bpf_log2l(delta);
        dist.atomic_increment(hk);
    } else {
        struct total_t zt = {};
        struct total_t *t = totals.lookup_or_try_init(&s->kind, &zt);
        if (t) {
            __sync_fetch_and_add(&t->time, delta);
            __sync_fetch_and_add(&t->count, 1);
        }
    }
    return 0;
}
`;
}

/** The library function of an irq-time tool: IntervalReports with a counter (time or count) or a histogram. */
export async function irqTime(k: IrqKind, opts: IrqTimeOptions, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.mode !== undefined && !["time", "count", "dist"].includes(opts.mode)) throw new UsageError(k.tool, `mode must be "time", "count" or "dist", got ${String(opts.mode)}`);
  if (opts.cpu !== undefined && (!Number.isInteger(opts.cpu) || opts.cpu < 0)) throw new UsageError(k.tool, `cpu must be a non-negative integer, got ${opts.cpu}`);
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(k.tool, `interval must be positive, got ${opts.interval}`);
  const source = chosen ?? chooseSource(k.tool, k.sources, opts.source);
  const b = await loadToolProgram(k.tool, (c) => program(k, opts, c));
  // The tables' codecs are built on first read, after the header: only the mode's table is ever wrapped.
  let dist: HashTable | undefined;
  let totals: HashTable | undefined;
  const unit = opts.nanoseconds ? "nsecs" : "usecs";
  const collect = (seconds: number): IntervalReport => {
    if (opts.mode === "dist") {
      const series = readSlots((dist ??= b.table<HashTable>("dist")), (key) => ({ labels: { [k.label]: k.kindName(key.kind) }, slot: Number(key.slot) }));
      return report(k.tool, seconds, [histogramMetric({ name: `${k.metric}_time`, unit, help: `time in ${k.label} handlers` }, series.values())]);
    }
    const entries = (totals ??= b.table<HashTable>("totals")).itemsLookupAndDeleteBatch() as Array<[unknown, { time: bigint; count: bigint }]>;
    const count = opts.mode === "count";
    const metric: CounterMetric = {
      kind: "counter", name: count ? `${k.metric}_events` : `${k.metric}_time`, unit: count ? "events" : unit,
      help: count ? `${k.label} events` : `time in ${k.label} handlers`,
      series: entries.map(([key, v]) => ({ labels: { [k.label]: k.kindName(key) }, value: toNumber(count ? v.count : v.time) })),
    };
    return report(k.tool, seconds, [metric]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const irqTimeOptions = (countLong: string): OptionSpec[] => [
  timeOption(),
  { name: "nanoseconds", short: "N", long: "nanoseconds", kind: "flag", help: "output in nanoseconds" },
  { name: "countMode", short: "C", long: countLong, kind: "flag", help: countLong === "events" ? "show the number of soft irq events" : "show event counts instead of timing" },
  { name: "dist", short: "d", long: "dist", kind: "flag", help: "show distributions as histograms" },
  { name: "cpu", short: "c", long: "cpu", kind: "value", parse: "uint", help: "trace this CPU only" },
];

export const irqTimePositionals = (countName: string) => intervalPositionals(undefined, "number of outputs").map((p, i) => (i === 1 ? { ...p, name: countName } : p));

/** The CLI side: BCC's "Tracing ..." line, then per interval a sorted TOTAL table or histograms. */
export async function irqTimeMain(k: IrqKind, what: string, nameWidth: number, o: Record<string, any>, run: ToolRun, outputs: number | undefined): Promise<number> {
  if (o.countMode && o.dist) throw new UsageError(k.tool, "argument -d/--dist: not allowed with argument -C");
  const mode = o.dist ? "dist" : o.countMode ? "count" : "time";
  const stream = await irqTime(k, { mode, nanoseconds: o.nanoseconds, cpu: o.cpu, interval: o.interval, count: outputs, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`Tracing ${what} irq event ${mode === "count" ? "count" : "time"}... Hit Ctrl-C to end.\n`);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    if (mode === "dist") {
      run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, section: (l: Labels) => `${k.label} = ${l[k.label]}` }));
      continue;
    }
    const m = r.metrics[0] as CounterMetric;
    let text = "\n";
    if (o.timestamp) text += `${clock().padEnd(8)}\n`;
    text += `${left(k.label.toUpperCase(), nameWidth)} ${right(`TOTAL_${mode === "count" ? "count" : m.unit}`, 11)}\n`;
    for (const s of [...m.series].sort((a, b) => a.value - b.value)) text += `${left(s.labels[k.label], nameWidth)} ${right(s.value, 11)}\n`;
    run.out.write(text);
  }
  return 0;
}
