// Output for other systems: Prometheus metrics, OpenTelemetry (OTLP) pushes and flame graphs. The tools feed it
// (src/tools/lib/report-metrics.ts); the live page, built on the tools, is src/tools/web/.
export { MetricsRegistry, Histogram, Counter, metricName, slotRange } from "./metrics.js";
export type { Labels, HistScale, MetricSnapshot, HistogramPoint, ValuePoint, MetricSpec } from "./metrics.js";
export { renderPrometheus, serveMetrics, PROMETHEUS_CONTENT_TYPE, type MetricsServer, type MetricsServerOptions } from "./prometheus.js";
export { parseHostPort, isLoopback, ListenError, type ListenOptions } from "./listen.js";
export { exposeTable, histReading, type ExposeTableOptions, type ExposedTable, type ReadableTable } from "./table-metrics.js";
export { startOtlpPush, type OtlpOptions, type OtlpPusher } from "./otlp.js";
export { startExporters, type ExporterFlags, type Exporters } from "./exporters.js";
export { flameGraphSvg, writeFlameGraph, writeFolded, parseFolded, formatFolded, frameKind, foldFrames, type FoldedStack, type FlameGraphOptions, type StackParts } from "./flamegraph.js";
