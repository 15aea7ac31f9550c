// The bridge from the tools to the exporters: every histogram/counter tool hands out one IntervalReport per interval
// (src/tools/lib/metrics.ts), and `ReportMetrics.absorb` adds each to a MetricsRegistry, so `--prometheus` and
// `--otlp` serve what the tool printed, summed over its intervals. Names are `tsbcc_<tool>_<metric>` plus the unit
// when it is a time or size (`tsbcc_runqlat_runq_latency_usecs`), counters end in `_total`; a report's labels
// (comm, pid, disk, syscall, ...) become the series' labels.
import { ArgumentError } from "../../errors.js";
import { slotsOf, type HistogramMetric, type IntervalReport, type Metric } from "./metrics.js";
import { Counter, Histogram, metricName, MetricsRegistry } from "../../export/metrics.js";

/** Units that go into the metric name (Prometheus names carry their unit); plain counts ("calls", "events") do not. */
const NAMED_UNIT = /^(?:[num]?secs|seconds|[kmg]?bytes)$/i;

/** The exported name of a report's metric. */
export function reportMetricName(tool: string, m: Pick<Metric, "kind" | "name" | "unit">): string {
  const unit = m.unit.toLowerCase();
  const withUnit = NAMED_UNIT.test(unit) && !m.name.endsWith(`_${unit}`) ? `${m.name}_${unit}` : m.name;
  return metricName(tool, m.kind === "counter" && !withUnit.endsWith("_total") ? `${withUnit}_total` : withUnit);
}

/** Running totals of a tool's IntervalReports in a registry (one per tool run). */
export class ReportMetrics {
  readonly registry: MetricsRegistry;

  constructor(registry: MetricsRegistry = new MetricsRegistry()) {
    if (!(registry instanceof MetricsRegistry)) throw new ArgumentError("registry", "must be a MetricsRegistry");
    this.registry = registry;
  }

  /** Adds one interval: histogram buckets and counters accumulate per series, gauges take the interval's level. */
  absorb(report: IntervalReport): void {
    if (report === null || typeof report !== "object" || !Array.isArray(report.metrics) || typeof report.tool !== "string") {
      throw new ArgumentError("report", "must be an IntervalReport ({ tool, metrics, ... })");
    }
    for (const m of report.metrics) {
      const name = reportMetricName(report.tool, m);
      if (m.kind === "histogram") {
        const h = this.histogram(name, m);
        for (const s of m.series) {
          h.addSlots(slotsOf(m, s), s.labels);
          if (s.sum !== undefined) h.addSum(s.sum, s.labels);
        }
      } else {
        const c = this.counter(name, m.kind, m.help, m.unit);
        for (const s of m.series) {
          if (m.kind === "gauge") c.set(s.labels, s.value);
          else c.add(s.labels, s.value);
        }
      }
    }
  }

  private histogram(name: string, m: HistogramMetric): Histogram {
    const known = this.registry.get(name);
    if (known instanceof Histogram) return known;
    if (known) throw new ArgumentError("report", `${name} changed kind between intervals`);
    const scale = m.scale === "log2" ? { kind: "log2", zeroInFirst: true } as const : { kind: "linear", step: m.step } as const;
    return this.registry.histogram({ name, help: m.help, unit: m.unit, scale });
  }

  private counter(name: string, kind: "counter" | "gauge", help: string, unit: string): Counter {
    const known = this.registry.get(name);
    if (known instanceof Counter && known.type === kind) return known;
    if (known) throw new ArgumentError("report", `${name} changed kind between intervals`);
    return kind === "gauge" ? this.registry.gauge({ name, help, unit }) : this.registry.counter({ name, help, unit });
  }
}
