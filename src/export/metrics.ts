// The metrics model every exporter shares: a registry of histograms (built from BPF log2/linear slot arrays, in
// the tool's unit) and labelled counters/gauges. Values are cumulative: a tool that clears its map each interval
// first adds what it read (`addSlots`/`add`), and a `live` reader adds what the map holds now. Nothing is read or
// computed until an exporter calls `collect()` (a scrape, an OTLP push), so an idle exporter costs nothing.
import { ArgumentError } from "../errors.js";

export type Count = number | bigint;
export type Labels = Readonly<Record<string, string>>;

/**
 * How slots map to values: log2 (slot i holds [2^(i-1), 2^i - 1], slot 0 holds 0) or linear (slot i holds
 * [i*step, (i+1)*step - 1]). log2 with `zeroInFirst` shows slot 0 inside the first bucket (`le="1"` holds 0 and 1),
 * as BCC prints "0 -> 1" and tools' IntervalReports carry it.
 */
export type HistScale = { kind: "log2"; zeroInFirst?: boolean } | { kind: "linear"; step?: number };

export interface HistogramPoint {
  labels: Labels;
  /** Upper bounds (`le`) of the finite buckets, ascending, in the metric's unit. */
  bounds: number[];
  /** Per-bucket counts (not cumulative): one per bound, then the overflow bucket (+Inf). */
  counts: bigint[];
  count: bigint;
  /** Exact when the source gave one (`addSum`), else estimated from bucket midpoints (`sumEstimated`). */
  sum: number;
  sumEstimated: boolean;
}

export interface ValuePoint {
  labels: Labels;
  value: number | bigint;
}

interface SnapshotBase {
  name: string;
  help: string;
  /** The tool's unit ("usecs", "bytes", ...), or "" for plain counts. */
  unit: string;
}
export type MetricSnapshot =
  | (SnapshotBase & { type: "histogram"; points: HistogramPoint[] })
  | (SnapshotBase & { type: "counter" | "gauge"; points: ValuePoint[] });

export interface MetricSpec {
  name: string;
  help: string;
  unit?: string;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `tsbcc_<tool>_<what>`, with anything Prometheus does not allow in a name turned into `_`. */
export function metricName(tool: string, what: string): string {
  if (typeof tool !== "string" || tool === "") throw new ArgumentError("tool", "must be a non-empty string");
  if (typeof what !== "string" || what === "") throw new ArgumentError("what", "must be a non-empty string");
  return `tsbcc_${tool}_${what}`.replace(/[^a-zA-Z0-9_]/g, "_");
}

function checkSpec(spec: MetricSpec): void {
  if (spec === null || typeof spec !== "object") throw new ArgumentError("spec", "must be an object with name and help");
  if (typeof spec.name !== "string" || !NAME_RE.test(spec.name)) {
    throw new ArgumentError("name", `"${String(spec.name)}" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
  }
  if (typeof spec.help !== "string") throw new ArgumentError("help", "must be a string");
  if (spec.unit !== undefined && typeof spec.unit !== "string") throw new ArgumentError("unit", "must be a string");
}

function checkLabels(labels: Labels, reserved: readonly string[]): void {
  if (labels === null || typeof labels !== "object") throw new ArgumentError("labels", "must be an object of strings");
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_RE.test(k) || k.startsWith("__") || reserved.includes(k)) {
      throw new ArgumentError("labels", `"${k}" is not a usable label name`);
    }
    if (typeof v !== "string") throw new ArgumentError("labels", `label "${k}" must be a string, got ${typeof v}`);
  }
}

/** A stable identity for a label set (sorted names), so equal sets from different readers add up. */
function labelKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

function toBig(v: Count, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw new ArgumentError(what, `counts must be integers, got ${String(v)}`);
}

/** A counter/gauge value: integers stay exact (bigint), fractions (a total time in usecs) stay numbers. */
function toValue(v: Count, what: string): number | bigint {
  if (typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v)) return v;
  return toBig(v, what);
}

/** Lower and upper value of slot `i` (inclusive) on `scale`. */
export function slotRange(scale: HistScale, i: number): [number, number] {
  if (scale.kind === "log2" && scale.zeroInFirst && i <= 1) return [0, 1];
  if (scale.kind === "log2") return i === 0 ? [0, 0] : [2 ** (i - 1), 2 ** i - 1];
  const step = scale.step ?? 1;
  return [i * step, (i + 1) * step - 1];
}

export type HistReading = readonly Count[] | Iterable<readonly [Labels, readonly Count[]]>;

interface HistSeries {
  labels: Labels;
  slots: bigint[];
  sum?: number;
}

/** What every metric has: a name, help text and unit, and an optional reader of the live map called at collect. */
abstract class Metric<Reading> {
  readonly name: string;
  readonly help: string;
  readonly unit: string;
  protected liveReader?: () => Reading;

  constructor(spec: MetricSpec) {
    checkSpec(spec);
    this.name = spec.name;
    this.help = spec.help;
    this.unit = spec.unit ?? "";
  }

  /** Called at each collect: what the map holds now (added to what was absorbed before). */
  live(reader: (() => Reading) | undefined): this {
    if (reader !== undefined && typeof reader !== "function") throw new ArgumentError("reader", "must be a function");
    this.liveReader = reader;
    return this;
  }

  abstract collect(): MetricSnapshot;
}

/** A histogram of BPF slot counts. `le` bounds come from the slot ranges; buckets once shown stay shown. */
export class Histogram extends Metric<HistReading> {
  readonly scale: HistScale;
  private readonly acc = new Map<string, HistSeries>();
  private highest = 0;

  /** `live` readers return one slot array, or [labels, slots] per series. */
  constructor(spec: MetricSpec & { scale?: HistScale }) {
    super(spec);
    const scale = spec.scale ?? { kind: "log2" };
    if (scale.kind !== "log2" && scale.kind !== "linear") throw new ArgumentError("scale", `unknown kind ${String((scale as { kind: unknown }).kind)}`);
    if (scale.kind === "linear" && scale.step !== undefined && !(Number.isInteger(scale.step) && scale.step > 0)) {
      throw new ArgumentError("scale.step", "must be a positive integer");
    }
    this.scale = scale;
  }

  /** Adds slot counts (e.g. what a tool read before clearing its map) to the series with `labels`. */
  addSlots(slots: readonly Count[], labels: Labels = {}): this {
    if (!Array.isArray(slots)) throw new ArgumentError("slots", "must be an array of counts");
    checkLabels(labels, ["le"]);
    addInto(this.series(this.acc, labels).slots, slots);
    return this;
  }

  /** Adds an exact sum of observed values (in the unit) to the series; without it `_sum` is estimated. */
  addSum(sum: number, labels: Labels = {}): this {
    if (typeof sum !== "number" || !Number.isFinite(sum)) throw new ArgumentError("sum", "must be a finite number");
    checkLabels(labels, ["le"]);
    const s = this.series(this.acc, labels);
    s.sum = (s.sum ?? 0) + sum;
    return this;
  }

  collect(): MetricSnapshot {
    const merged = new Map<string, HistSeries>();
    for (const [k, s] of this.acc) merged.set(k, { labels: s.labels, slots: [...s.slots], sum: s.sum });
    const reading = this.liveReader?.();
    if (reading !== undefined) {
      if (Array.isArray(reading) && reading.every((v) => typeof v === "number" || typeof v === "bigint")) {
        addInto(this.series(merged, {}).slots, reading as Count[]);
      } else {
        for (const [labels, slots] of reading as Iterable<readonly [Labels, readonly Count[]]>) {
          checkLabels(labels, ["le"]);
          addInto(this.series(merged, labels).slots, slots);
        }
      }
    }
    for (const s of merged.values()) {
      for (let i = s.slots.length - 1; i > this.highest; i--) if (s.slots[i]! > 0n) this.highest = i;
    }
    const points = [...merged.values()].map((s) => this.point(s));
    return { type: "histogram", name: this.name, help: this.help, unit: this.unit, points };
  }

  private point(s: HistSeries): HistogramPoint {
    const bounds: number[] = [];
    const counts: bigint[] = [];
    let count = 0n;
    let estimate = 0;
    const joined = this.scale.kind === "log2" && this.scale.zeroInFirst === true;
    for (let i = joined ? 1 : 0; i <= Math.max(this.highest, joined ? 1 : 0); i++) {
      const c = (s.slots[i] ?? 0n) + (joined && i === 1 ? s.slots[0] ?? 0n : 0n);
      const [low, high] = slotRange(this.scale, i);
      bounds.push(high);
      counts.push(c);
      count += c;
      estimate += Number(c) * ((low + high) / 2);
    }
    // Slots past `highest` cannot hold counts (highest covers every series), so overflow is zero.
    counts.push(0n);
    return { labels: s.labels, bounds, counts, count, sum: s.sum ?? estimate, sumEstimated: s.sum === undefined };
  }

  private series(map: Map<string, HistSeries>, labels: Labels): HistSeries {
    const k = labelKey(labels);
    let s = map.get(k);
    if (!s) map.set(k, (s = { labels: { ...labels }, slots: [] }));
    return s;
  }
}

function addInto(into: bigint[], slots: readonly Count[]): void {
  for (let i = 0; i < slots.length; i++) {
    const v = toBig(slots[i]!, "slots");
    if (v === 0n && i >= into.length) continue;
    while (into.length <= i) into.push(0n);
    into[i] = into[i]! + v;
  }
}

export type ValueReading = Iterable<readonly [Labels, Count]>;

/** A labelled counter (cumulative, never goes down) or gauge (may go down). `live` readers return [labels, value] pairs. */
export class Counter extends Metric<ValueReading> {
  readonly type: "counter" | "gauge";
  private readonly acc = new Map<string, ValuePoint>();

  constructor(spec: MetricSpec & { type?: "counter" | "gauge" }) {
    super(spec);
    if (spec.type !== undefined && spec.type !== "counter" && spec.type !== "gauge") {
      throw new ArgumentError("type", `must be "counter" or "gauge", got ${String(spec.type)}`);
    }
    this.type = spec.type ?? "counter";
  }

  /** Adds `value` to the series with `labels` (a tool adds what it read before clearing its map). */
  add(labels: Labels, value: Count): this {
    checkLabels(labels, []);
    const v = toValue(value, "value");
    if (this.type === "counter" && v < 0) throw new ArgumentError("value", "a counter cannot go down");
    addValue(this.acc, labels, v);
    return this;
  }

  /** Gauges: sets the series with `labels` to `value` (a level read at the end of an interval). */
  set(labels: Labels, value: Count): this {
    if (this.type !== "gauge") throw new ArgumentError("value", "only a gauge can be set; a counter only grows (add)");
    checkLabels(labels, []);
    this.acc.set(labelKey(labels), { labels: { ...labels }, value: toValue(value, "value") });
    return this;
  }

  collect(): MetricSnapshot {
    const merged = new Map<string, ValuePoint>();
    for (const [k, p] of this.acc) merged.set(k, { labels: p.labels, value: p.value });
    for (const [labels, value] of this.liveReader?.() ?? []) {
      checkLabels(labels, []);
      addValue(merged, labels, toValue(value, "value"));
    }
    return { type: this.type, name: this.name, help: this.help, unit: this.unit, points: [...merged.values()] };
  }
}

function addValue(map: Map<string, ValuePoint>, labels: Labels, v: number | bigint): void {
  const k = labelKey(labels);
  const p = map.get(k);
  if (!p) map.set(k, { labels: { ...labels }, value: v });
  else if (typeof p.value === "bigint" && typeof v === "bigint") p.value += v;
  else p.value = Number(p.value) + Number(v);
}

/** The metrics of one process (a tool, the live page): exporters collect them on demand. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Histogram | Counter>();

  histogram(spec: MetricSpec & { scale?: HistScale }): Histogram {
    return this.register(new Histogram(spec));
  }

  counter(spec: MetricSpec): Counter {
    return this.register(new Counter({ ...spec, type: "counter" }));
  }

  gauge(spec: MetricSpec): Counter {
    return this.register(new Counter({ ...spec, type: "gauge" }));
  }

  /** Removes a metric (e.g. when the table behind it is closed). */
  remove(name: string): boolean {
    return this.metrics.delete(name);
  }

  get names(): string[] {
    return [...this.metrics.keys()];
  }

  /** The metric registered as `name`, if any. */
  get(name: string): Histogram | Counter | undefined {
    return this.metrics.get(name);
  }

  /** Reads every metric now, in registration order. */
  collect(): MetricSnapshot[] {
    return [...this.metrics.values()].map((m) => m.collect());
  }

  private register<M extends Histogram | Counter>(m: M): M {
    if (this.metrics.has(m.name)) throw new ArgumentError("name", `a metric named ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }
}
