// Tier 1: IntervalReports (what histogram/counter tools produce) into the metrics registry: names with units and
// `_total`, BCC's "0 -> 1" bucket as le="1" (no le="0"), linear steps, per-key labels, running totals across
// intervals (counters, fractional times, histogram sums), gauges as levels; mergeReports (the framework's sum of
// partial reads); wrong input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReportMetrics, reportMetricName } from "../../src/tools/lib/report-metrics.js";
import { renderPrometheus } from "../../src/export/index.js";
import { histogramMetric } from "../../src/tools/lib/histogram.js";
import { mergeReports, report, type CounterMetric, type IntervalReport } from "../../src/tools/lib/metrics.js";

const runq = (slots: number[], labels = {}): IntervalReport =>
  report("runqlat", 1, [histogramMetric({ name: "runq_latency", unit: "usecs", help: "run queue latency" }, [{ labels, slots }])]);

const calls = (kind: "counter" | "gauge", values: [string, number][], name = "syscalls", unit = "calls"): IntervalReport =>
  report("syscount", 1, [{ kind, name, unit, help: "calls per syscall", series: values.map(([syscall, value]) => ({ labels: { syscall }, value })) } as CounterMetric]);

test("names: tool, metric, a time or size unit, _total on counters", () => {
  assert.equal(reportMetricName("runqlat", { kind: "histogram", name: "runq_latency", unit: "usecs" }), "tsbcc_runqlat_runq_latency_usecs");
  assert.equal(reportMetricName("bitesize", { kind: "histogram", name: "block_io_size", unit: "Kbytes" }), "tsbcc_bitesize_block_io_size_kbytes");
  assert.equal(reportMetricName("syscount", { kind: "counter", name: "syscalls", unit: "calls" }), "tsbcc_syscount_syscalls_total");
  assert.equal(reportMetricName("syscount", { kind: "counter", name: "syscall_time", unit: "usecs" }), "tsbcc_syscount_syscall_time_usecs_total");
  assert.equal(reportMetricName("x", { kind: "gauge", name: "queue_len", unit: "" }), "tsbcc_x_queue_len");
});

test("log2 reports: cumulative across intervals, first bucket le=1 holds 0 and 1", () => {
  const m = new ReportMetrics();
  m.absorb(runq([2, 3, 0, 4])); // "0 -> 1": 5, "2 -> 3": 0, "4 -> 7": 4
  m.absorb(runq([0, 1, 6]));
  const text = renderPrometheus(m.registry);
  assert.doesNotMatch(text, /le="0"/);
  for (const line of ['_bucket{le="1"} 6', '_bucket{le="3"} 12', '_bucket{le="7"} 16', '_bucket{le="+Inf"} 16', "_count 16"]) {
    assert.ok(text.includes(`tsbcc_runqlat_runq_latency_usecs${line}\n`), `${line} in\n${text}`);
  }
  assert.match(text, /# HELP tsbcc_runqlat_runq_latency_usecs run queue latency \(usecs/);
});

test("labelled series, linear steps, exact sums, counters with fractions, gauges", () => {
  const m = new ReportMetrics();
  const bio = (slots: number[], sum: number): IntervalReport => report("biolatency", 1, [histogramMetric(
    { name: "io_size", unit: "bytes", help: "sizes", scale: "linear", step: 10 }, [{ labels: { disk: "sda" }, slots, sum }])]);
  m.absorb(bio([1, 2], 25));
  m.absorb(bio([0, 0, 3], 75));
  m.absorb(calls("counter", [["read", 2], ["getppid", 1000]]));
  m.absorb(calls("counter", [["read", 3]]));
  m.absorb(calls("counter", [["read", 0.25]], "syscall_time", "usecs"));
  m.absorb(calls("counter", [["read", 0.5]], "syscall_time", "usecs"));
  m.absorb(calls("gauge", [["read", 7]], "level", ""));
  m.absorb(calls("gauge", [["read", 4]], "level", ""));
  const text = renderPrometheus(m.registry);
  for (const line of [
    'tsbcc_biolatency_io_size_bytes_bucket{disk="sda",le="9"} 1', 'tsbcc_biolatency_io_size_bytes_bucket{disk="sda",le="19"} 3',
    'tsbcc_biolatency_io_size_bytes_bucket{disk="sda",le="29"} 6', 'tsbcc_biolatency_io_size_bytes_sum{disk="sda"} 100',
    'tsbcc_syscount_syscalls_total{syscall="read"} 5', 'tsbcc_syscount_syscalls_total{syscall="getppid"} 1000',
    'tsbcc_syscount_syscall_time_usecs_total{syscall="read"} 0.75', 'tsbcc_syscount_level{syscall="read"} 4',
  ]) assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
  assert.match(text, /# TYPE tsbcc_syscount_level gauge/);
});

test("mergeReports adds histograms and counters per series, keeps the later gauge", () => {
  const a = mergeReports(runq([1, 1], { pid: "1" }), runq([0, 2, 5], { pid: "1" }));
  assert.deepEqual(a.metrics[0]!.kind === "histogram" && a.metrics[0]!.series[0]!.buckets.map((b) => b.count), [4, 5]);
  assert.equal(a.intervalSeconds, 2);
  const c = mergeReports(calls("counter", [["read", 2]]), calls("counter", [["read", 3], ["write", 1]]));
  assert.deepEqual((c.metrics[0] as CounterMetric).series.map((s) => s.value), [5, 1]);
  const g = mergeReports(calls("gauge", [["read", 2]], "level", ""), calls("gauge", [["read", 9]], "level", ""));
  assert.deepEqual((g.metrics[0] as CounterMetric).series.map((s) => s.value), [9]);
});

test("wrong input: not a report, a metric changing kind, bad label names", () => {
  const m = new ReportMetrics();
  assert.throws(() => m.absorb({} as IntervalReport), { code: "BAD_ARGUMENT", argument: "report" });
  assert.throws(() => new ReportMetrics({} as never), { code: "BAD_ARGUMENT", argument: "registry" });
  m.absorb(runq([1]));
  const gauge = report("runqlat", 1, [{ kind: "gauge", name: "runq_latency", unit: "usecs", help: "", series: [] }]);
  assert.throws(() => m.absorb(gauge), { code: "BAD_ARGUMENT", argument: "report" });
  assert.throws(() => m.absorb(runq([1], { "bad-label": "1" })), { code: "BAD_ARGUMENT", argument: "labels" });
  assert.throws(() => m.absorb(calls("counter", [["read", -1]], "x", "")), { code: "BAD_ARGUMENT", argument: "value" });
});
