// exposeTable: any BPF hash or array table as metrics, read when an exporter collects (a scrape, a push). A log2 or
// linear histogram table (slot keys, or struct keys whose first field is a section) becomes a Prometheus histogram;
// any other table becomes labelled counters (or gauges), one series per key.
import { ArgumentError } from "../errors.js";
import type { AnyTable } from "../api/tables/index.js";
import { Counter, Histogram, MetricsRegistry, type Count, type Labels } from "./metrics.js";

/** What exposeTable needs of a table: its name and a walk over [key, value] entries (every tsbcc table has both). */
export interface ReadableTable {
  readonly name: string;
  entries(): Iterable<[unknown, unknown]>;
}

export interface ExposeTableOptions {
  registry: MetricsRegistry;
  /** Full metric name, e.g. metricName("runqlat", "latency_usecs"). */
  name: string;
  help: string;
  /** The tool's unit for histograms ("usecs", "nsecs", "bytes") or counters ("" for plain counts). */
  unit?: string;
  /** "log2" / "linear" histograms, or "counter" (default) / "gauge" per key. */
  kind?: "log2" | "linear" | "counter" | "gauge";
  /** Linear histograms: the value width of one slot (default 1). */
  linearStep?: number;
  /** Histograms with struct keys: the label that holds the section (default: the key's first field name). */
  sectionLabel?: string;
  /** Counters: labels for a key (default: `{key}` for scalars, one label per field for structs). */
  labels?: (key: unknown) => Labels;
  /** Counters: the count in a value (default: integers as they are, per-CPU arrays summed, a struct's one integer field). */
  value?: (value: unknown) => Count;
}

/** A table exposed as a metric. */
export interface ExposedTable {
  readonly metric: Histogram | Counter;
  /**
   * Adds entries to the metric's running totals: a tool that clears its map each interval passes what it just read
   * (and printed) before clearing, so the metric stays cumulative and equal to the sum of what was printed.
   */
  absorb(entries: Iterable<[unknown, unknown]>): void;
}

/** Registers a metric that reads `table` at every collect (plus whatever was absorbed), and returns it. */
export function exposeTable(anyTable: AnyTable | ReadableTable, opts: ExposeTableOptions): ExposedTable {
  if (anyTable === null || typeof anyTable !== "object" || typeof (anyTable as ReadableTable).entries !== "function") {
    throw new ArgumentError("table", "must be a hash or array table (an object with entries())");
  }
  const table = anyTable as ReadableTable;
  if (opts === null || typeof opts !== "object") throw new ArgumentError("options", "must be an object");
  if (!(opts.registry instanceof MetricsRegistry)) throw new ArgumentError("registry", "must be a MetricsRegistry");
  const kind = opts.kind ?? "counter";
  if (kind === "log2" || kind === "linear") {
    const scale = kind === "log2" ? { kind } as const : { kind, step: opts.linearStep } as const;
    const h = opts.registry.histogram({ name: opts.name, help: opts.help, unit: opts.unit, scale });
    h.live(() => histReading(table.entries(), opts.sectionLabel));
    return {
      metric: h,
      absorb: (entries) => {
        for (const [labels, slots] of histReading(entries, opts.sectionLabel)) h.addSlots(slots, labels);
      },
    };
  }
  if (kind !== "counter" && kind !== "gauge") throw new ArgumentError("kind", `unknown kind ${String(kind)}`);
  for (const fn of ["labels", "value"] as const) {
    if (opts[fn] !== undefined && typeof opts[fn] !== "function") throw new ArgumentError(fn, "must be a function");
  }
  const spec = { name: opts.name, help: opts.help, unit: opts.unit };
  const c = kind === "gauge" ? opts.registry.gauge(spec) : opts.registry.counter(spec);
  const labelsOf = opts.labels ?? defaultLabels;
  const valueOf = opts.value ?? defaultValue;
  const read = (entries: Iterable<[unknown, unknown]>): [Labels, Count][] => {
    const out: [Labels, Count][] = [];
    for (const [k, v] of entries) out.push([labelsOf(k), valueOf(v)]);
    return out;
  };
  c.live(() => read(table.entries()));
  return {
    metric: c,
    absorb: (entries) => {
      for (const [labels, v] of read(entries)) c.add(labels, v);
    },
  };
}

/** Slot arrays from histogram entries: one unlabelled series for scalar keys, one per section for struct keys. */
export function histReading(entries: Iterable<[unknown, unknown]>, sectionLabel?: string): [Labels, Count[]][] {
  const sections = new Map<string, [Labels, Count[]]>();
  for (const [k, v] of entries) {
    const [labels, slot] = splitHistKey(k, sectionLabel);
    const id = JSON.stringify(labels);
    let s = sections.get(id);
    if (!s) sections.set(id, (s = [labels, []]));
    while (s[1].length <= slot) s[1].push(0);
    s[1][slot] = defaultValue(v);
  }
  return [...sections.values()];
}

function splitHistKey(key: unknown, sectionLabel?: string): [Labels, number] {
  if (typeof key === "number" || typeof key === "bigint") return [{}, slotNumber(key)];
  if (key === null || typeof key !== "object") throw new ArgumentError("table", `histogram key ${String(key)} is neither a slot nor a struct`);
  const names = Object.keys(key);
  if (names.length < 2) throw new ArgumentError("table", "a struct histogram key needs a section field and a slot field");
  const slotName = names[1] === "__pad_1" && names.length > 2 ? names[2]! : names[1]!;
  const rec = key as Record<string, unknown>;
  const label = sectionLabel ?? names[0]!.replace(/[^a-zA-Z0-9_]/g, "_");
  return [{ [label]: labelValue(rec[names[0]!]) }, slotNumber(rec[slotName])];
}

function slotNumber(v: unknown): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 4096) {
    throw new ArgumentError("table", `histogram slot ${String(v)} is not a slot index`);
  }
  return n;
}

/** A key field as label text: strings as they are, numbers in decimal, bytes in hex, anything else as JSON. */
export function labelValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex");
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? String(x) : x));
}

function defaultLabels(key: unknown): Labels {
  if (key !== null && typeof key === "object" && !(key instanceof Uint8Array) && !Array.isArray(key)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(key)) if (!k.startsWith("__pad")) out[k.replace(/[^a-zA-Z0-9_]/g, "_")] = labelValue(v);
    return out;
  }
  return { key: labelValue(key) };
}

function defaultValue(v: unknown): Count {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "number" || typeof x === "bigint")) {
    return v.reduce((a: bigint, x: Count) => a + BigInt(x), 0n);
  }
  if (v !== null && typeof v === "object") {
    const ints = Object.values(v).filter((x) => typeof x === "number" || typeof x === "bigint") as Count[];
    if (ints.length === 1) return ints[0]!;
  }
  throw new ArgumentError("value", `cannot count a table value like ${labelValue(v)}; pass options.value`);
}
