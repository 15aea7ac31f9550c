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

export function histogramSeries(labels: Labels, buckets: Bucket[], sum?: number): HistogramSeries {
  return { labels, buckets, count: buckets.reduce((n, b) => n + b.count, 0), ...(sum !== undefined ? { sum } : {}) };
}

export function report(tool: string, intervalSeconds: number, metrics: Metric[], now = new Date()): IntervalReport {
  return { tool, time: now.toISOString(), intervalSeconds, metrics };
}
