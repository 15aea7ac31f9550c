// Histogram tools' shared steps: read a BPF_HISTOGRAM table (plain slots, or a struct key whose last field is the
// slot) into labelled series, turn them into a HistogramMetric, and print a metric in BCC's layout (sections
// "\n<header> = <label>" per series, as print_log2_hist does for struct keys).
import { formatLinearHist, formatLog2Hist } from "../../index.js";
import { clock } from "./format.js";
import { histogramSeries, linearBuckets, log2Buckets, slotsOf, toNumber, type HistogramMetric, type Labels } from "./metrics.js";

export { slotsOf };

/** Any table whose iteration yields [key, count]; tsbcc's tables also read-and-delete atomically per entry. */
export type CountTable = Iterable<[unknown, unknown]> & { clear(): void; itemsLookupAndDeleteBatch?(): Array<[unknown, unknown]> };

/** The entries, deleted as they are read when `clear` (an event between a read and a clear would be lost). */
function drain(table: CountTable, clear: boolean): Iterable<[unknown, unknown]> {
  if (!clear) return table;
  if (table.itemsLookupAndDeleteBatch) return table.itemsLookupAndDeleteBatch();
  const entries = [...table];
  table.clear();
  return entries;
}

/**
 * Reads (and clears, as BCC does each interval) a histogram table into slot arrays per series. `split(key)`
 * gives a key's labels and slot; plain numeric keys are slots of one unlabelled series by default.
 */
export function readSlots(table: CountTable, split?: (key: any) => { labels: Labels; slot: number }, clear = true): Map<string, { labels: Labels; slots: number[] }> {
  const out = new Map<string, { labels: Labels; slots: number[] }>();
  for (const [key, value] of drain(table, clear)) {
    const { labels, slot } = split ? split(key) : { labels: {}, slot: Number(key) };
    const id = JSON.stringify(labels);
    let s = out.get(id);
    if (!s) out.set(id, (s = { labels, slots: [] }));
    s.slots[slot] = (s.slots[slot] ?? 0) + toNumber(value as number | bigint);
  }
  for (const s of out.values()) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0;
  return out;
}

export function histogramMetric(m: { name: string; unit: string; help: string; scale?: "log2" | "linear"; step?: number },
  series: Iterable<{ labels: Labels; slots: number[]; sum?: number }>): HistogramMetric {
  const scale = m.scale ?? "log2";
  const step = m.step ?? 1;
  return {
    kind: "histogram", name: m.name, unit: m.unit, help: m.help, scale, ...(scale === "linear" ? { step } : {}),
    series: [...series].map((s) => histogramSeries(s.labels, scale === "log2" ? log2Buckets(s.slots) : linearBuckets(s.slots, step), s.sum)),
  };
}

/**
 * BCC's text for a histogram metric. `section(labels)` names a series' section ("disk = sda"); without it the
 * series print one after another with no header. An empty metric prints only the column header, as BCC does.
 */
export function formatHistogramMetric(metric: HistogramMetric, section?: (labels: Labels) => string, valType = metric.unit): string {
  const format = metric.scale === "log2" ? formatLog2Hist : formatLinearHist;
  if (metric.series.length === 0) return format([], { valType });
  return metric.series.map((s) => (section ? `\n${section(s.labels)}\n` : "") + format(slotsOf(metric, s), { valType })).join("");
}

/**
 * One interval of a histogram tool, as BCC prints it: a blank line, the time with -T, then each series (with its
 * section line when `section` names it) and, with `extension`, BCC's "avg = ..., total: ..., count: ..." line.
 */
export function formatHistogramReport(metric: HistogramMetric, o: { timestamp?: boolean; section?: (l: Labels) => string; extension?: boolean }): string {
  let text = "\n";
  if (o.timestamp) text += `${clock().padEnd(8)}\n`;
  if (metric.series.length === 0) return text + formatHistogramMetric(metric);
  for (const s of metric.series) {
    text += formatHistogramMetric({ ...metric, series: [s] }, o.section);
    if (o.extension && s.count > 0) {
      const total = s.sum ?? 0;
      text += `\navg = ${Math.trunc(total / s.count)} ${metric.unit}, total: ${total} ${metric.unit}, count: ${s.count}\n`;
    }
  }
  return text;
}

/** Sets each series' `sum` from a table of `{ total }` values keyed like the series' sections (read, then cleared). */
export function addSums(series: Map<string, { labels: Labels; slots: number[]; sum?: number }>, table: CountTable, labelsOf: (key: any) => Labels): void {
  for (const [key, value] of drain(table, true)) {
    const s = series.get(JSON.stringify(labelsOf(key)));
    if (s) s.sum = toNumber((value as { total: number | bigint }).total);
  }
}
