// The per-interval data of histogram and counter tools (runqlat, biolatency, syscount, softirqs, ...): one
// `IntervalReport` per interval, what `--json` prints and what metrics exporters (Prometheus, OTLP) read. The shape
// is documented in ./README.md. Counts are numbers (a u64 above 2^53 is clamped to Number.MAX_SAFE_INTEGER:
// no tool counts that high in an interval).

/** One histogram bucket: values in [low, high] (inclusive), `count` of them (not cumulative). */
export interface Bucket {
  low: number;
  high: number;
  count: number;
}

export interface Labels {
  readonly [label: string]: string;
}

export interface HistogramSeries {
  labels: Labels;
  buckets: Bucket[];
  /** Total count over all buckets. */
  count: number;
  /** Sum of the observed values, when the tool measures it (in `unit`). */
  sum?: number;
}

export interface HistogramMetric {
  kind: "histogram";
  /** Snake-case metric name, e.g. "runq_latency". */
  name: string;
  /** The values' unit: "usecs", "msecs", "nsecs", "bytes", "kbytes", "count", ... */
  unit: string;
  help: string;
  /** log2: bucket i holds [2^(i-1), 2^i - 1] (bucket 0 holds 0..1, as BCC prints); linear: width `step`. */
  scale: "log2" | "linear";
  step?: number;
  series: HistogramSeries[];
}

export interface CounterSeries {
  labels: Labels;
  value: number;
}

export interface CounterMetric {
  /** counter: events or a total during the interval (reset each interval); gauge: a level at its end. */
  kind: "counter" | "gauge";
  name: string;
  unit: string;
  help: string;
  series: CounterSeries[];
}

export type Metric = HistogramMetric | CounterMetric;

export interface IntervalReport {
  /** The tool that measured it. */
  tool: string;
  /** End of the interval, ISO 8601. */
  time: string;
  /** Length of the interval in seconds (the run so far when the tool prints once at the end). */
  intervalSeconds: number;
  metrics: Metric[];
}

export function toNumber(v: number | bigint): number {
  if (typeof v === "number") return v;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * Buckets of a log2 histogram given as counts by slot, in BCC's layout: slot i (i >= 1) holds values
 * 2^(i-1) .. 2^i - 1 and is printed "0 -> 1", "2 -> 3", "4 -> 7", ...; slot 0 (the value 0) joins the first
 * bucket. Up to the last non-empty slot.
 */
export function log2Buckets(slots: ReadonlyArray<number | bigint>): Bucket[] {
  let last = -1;
  slots.forEach((v, i) => { if (toNumber(v) !== 0) last = i; });
  const out: Bucket[] = [];
  for (let i = 1; last >= 0 && i <= Math.max(last, 1); i++) {
    const count = toNumber(slots[i] ?? 0) + (i === 1 ? toNumber(slots[0] ?? 0) : 0);
    out.push({ low: i === 1 ? 0 : 2 ** (i - 1), high: 2 ** i - 1, count });
  }
  return out;
}

/** Buckets of a linear histogram with width `step`, up to the last non-empty slot. */
export function linearBuckets(slots: ReadonlyArray<number | bigint>, step: number): Bucket[] {
  let last = -1;
  slots.forEach((v, i) => { if (toNumber(v) !== 0) last = i; });
  const out: Bucket[] = [];
  for (let i = 0; i <= last; i++) out.push({ low: i * step, high: (i + 1) * step - 1, count: toNumber(slots[i] ?? 0) });
  return out;
}

/** Slot counts back from buckets (log2: slot i holds up to 2^i - 1, the "0 -> 1" bucket is slot 1; linear: slot = low / step). */
export function slotsOf(metric: Pick<HistogramMetric, "scale" | "step">, series: Pick<HistogramSeries, "buckets">): number[] {
  const slots: number[] = [];
  for (const b of series.buckets) {
    const i = metric.scale === "log2" ? Math.round(Math.log2(b.high + 1)) : Math.floor(b.low / (metric.step ?? 1));
    slots[i] = b.count;
  }
  for (let i = 0; i < slots.length; i++) slots[i] ??= 0;
  return slots;
}

export function histogramSeries(labels: Labels, buckets: Bucket[], sum?: number): HistogramSeries {
  return { labels, buckets, count: buckets.reduce((n, b) => n + b.count, 0), ...(sum !== undefined ? { sum } : {}) };
}

export function report(tool: string, intervalSeconds: number, metrics: Metric[], now = new Date()): IntervalReport {
  return { tool, time: now.toISOString(), intervalSeconds, metrics };
}

const seriesKey = (labels: Labels): string => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));

/**
 * Two consecutive reports of one tool as one (`later`'s time, both lengths): histogram buckets and counters add up
 * per series, gauges take the later level. The framework uses it when exporters read a tool more often than it prints.
 */
export function mergeReports(earlier: IntervalReport, later: IntervalReport): IntervalReport {
  const metrics = earlier.metrics.map((m) => {
    const next = later.metrics.find((n) => n.name === m.name && n.kind === m.kind);
    return next ? mergeMetric(m, next) : m;
  });
  for (const n of later.metrics) if (!earlier.metrics.some((m) => m.name === n.name && m.kind === n.kind)) metrics.push(n);
  return { tool: later.tool, time: later.time, intervalSeconds: earlier.intervalSeconds + later.intervalSeconds, metrics };
}

function mergeMetric(a: Metric, b: Metric): Metric {
  if (a.kind === "histogram" && b.kind === "histogram") {
    const series = new Map(a.series.map((s) => [seriesKey(s.labels), s]));
    for (const s of b.series) {
      const prev = series.get(seriesKey(s.labels));
      series.set(seriesKey(s.labels), prev ? mergeHistogramSeries(a, prev, s) : s);
    }
    return { ...a, series: [...series.values()] };
  }
  if (a.kind === "histogram" || b.kind === "histogram") return b;
  const series = new Map(a.series.map((s) => [seriesKey(s.labels), s]));
  for (const s of b.series) {
    const prev = series.get(seriesKey(s.labels));
    series.set(seriesKey(s.labels), prev && a.kind === "counter" ? { labels: s.labels, value: prev.value + s.value } : s);
  }
  return { ...a, series: [...series.values()] };
}

function mergeHistogramSeries(m: HistogramMetric, a: HistogramSeries, b: HistogramSeries): HistogramSeries {
  const x = slotsOf(m, a);
  const y = slotsOf(m, b);
  const slots = Array.from({ length: Math.max(x.length, y.length) }, (_, i) => (x[i] ?? 0) + (y[i] ?? 0));
  const buckets = m.scale === "log2" ? log2Buckets(slots) : linearBuckets(slots, m.step ?? 1);
  const sum = a.sum === undefined && b.sum === undefined ? undefined : (a.sum ?? 0) + (b.sum ?? 0);
  return histogramSeries(a.labels, buckets, sum);
}
