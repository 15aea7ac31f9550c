// OpenTelemetry: pushes a MetricsRegistry as OTLP over HTTP (JSON) with the official OpenTelemetry JS SDK. The
// registry is handed to the SDK as a MetricProducer, so histograms keep their BPF slot bounds (explicit-bucket
// histograms) and counters stay cumulative sums; the SDK's PeriodicExportingMetricReader and OTLP exporter do the
// timing, encoding and retries. The SDK packages are imported on first use, so tools that never push load none of it.
import { ArgumentError } from "../errors.js";
import { MetricsRegistry, type MetricSnapshot } from "./metrics.js";

type SdkMetrics = typeof import("@opentelemetry/sdk-metrics");
type MetricData = import("@opentelemetry/sdk-metrics").MetricData;
type HrTime = [number, number];

// Specifiers in variables: the bundler leaves them alone, so the SDK stays out of the CLI bundle until used.
const SDK_METRICS = "@opentelemetry/sdk-metrics";
const EXPORTER = "@opentelemetry/exporter-metrics-otlp-http";
const RESOURCES = "@opentelemetry/resources";
const API = "@opentelemetry/api";

export interface OtlpOptions {
  /** The collector's OTLP/HTTP metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics. */
  url: string;
  /** Push period, default 10 000 ms. */
  intervalMs?: number;
  /** service.name of the resource, default "tsbcc". */
  serviceName?: string;
  /** Extra HTTP headers (e.g. authorization for a hosted backend). */
  headers?: Record<string, string>;
  /** Told when a push fails (the SDK reports through its diagnostics logger, which this installs). */
  onError?: (message: string) => void;
}

export interface OtlpPusher {
  /** Pushes now (resolves when the collector answered). */
  flush(): Promise<void>;
  /** Pushes a last time and stops. */
  close(): Promise<void>;
}

function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** One registry snapshot as SDK MetricData (cumulative, start time = when the pusher started). */
export function toMetricData(sdk: SdkMetrics, snaps: readonly MetricSnapshot[], startMs: number, nowMs: number): MetricData[] {
  const startTime = hrTime(startMs);
  const endTime = hrTime(nowMs);
  const cumulative = sdk.AggregationTemporality.CUMULATIVE;
  return snaps.map((m): MetricData => {
    const descriptor = { name: m.name, description: m.help, unit: m.unit, valueType: 1 /* ValueType.DOUBLE */ };
    if (m.type === "histogram") {
      return {
        descriptor, aggregationTemporality: cumulative, dataPointType: sdk.DataPointType.HISTOGRAM,
        dataPoints: m.points.map((p) => ({
          startTime, endTime, attributes: { ...p.labels },
          // OTLP's sum is optional: sent only when exact (Prometheus' _sum is required, so it carries the estimate).
          value: { buckets: { boundaries: p.bounds, counts: p.counts.map(Number) }, sum: p.sumEstimated ? undefined : p.sum, count: Number(p.count) },
        })),
      };
    }
    const dataPoints = m.points.map((p) => ({ startTime, endTime, attributes: { ...p.labels }, value: Number(p.value) }));
    if (m.type === "gauge") return { descriptor, aggregationTemporality: cumulative, dataPointType: sdk.DataPointType.GAUGE, dataPoints };
    return { descriptor, aggregationTemporality: cumulative, dataPointType: sdk.DataPointType.SUM, isMonotonic: true, dataPoints };
  });
}

function checkOptions(opts: OtlpOptions): void {
  if (opts === null || typeof opts !== "object") throw new ArgumentError("options", "must be an object with url");
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new ArgumentError("url", `"${String(opts.url)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ArgumentError("url", "must be http:// or https://");
  if (opts.intervalMs !== undefined && !(Number.isInteger(opts.intervalMs) && opts.intervalMs >= 100)) {
    throw new ArgumentError("intervalMs", "must be an integer of at least 100");
  }
  if (opts.serviceName !== undefined && typeof opts.serviceName !== "string") throw new ArgumentError("serviceName", "must be a string");
  if (opts.onError !== undefined && typeof opts.onError !== "function") throw new ArgumentError("onError", "must be a function");
}

/** A collector's base address (http://host:4318) gets the standard metrics path, as OTEL_EXPORTER_OTLP_ENDPOINT does. */
export function metricsUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/v1/metrics";
  return u.toString();
}

/** Starts pushing `registry` to `opts.url` every `intervalMs`. */
export async function startOtlpPush(registry: MetricsRegistry, opts: OtlpOptions): Promise<OtlpPusher> {
  if (!(registry instanceof MetricsRegistry)) throw new ArgumentError("registry", "must be a MetricsRegistry");
  checkOptions(opts);
  const sdk = (await import(SDK_METRICS)) as SdkMetrics;
  const { OTLPMetricExporter } = (await import(EXPORTER)) as typeof import("@opentelemetry/exporter-metrics-otlp-http");
  const { resourceFromAttributes } = (await import(RESOURCES)) as typeof import("@opentelemetry/resources");
  const startMs = Date.now();
  const scope = { name: "tsbcc", version: "0.1.0" };
  const producer = {
    async collect() {
      const metrics = toMetricData(sdk, registry.collect(), startMs, Date.now());
      // Only scopeMetrics are used: the reader keeps the MeterProvider's resource.
      return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope, metrics }] }, errors: [] };
    },
  };
  if (opts.onError) {
    const { diag, DiagLogLevel } = (await import(API)) as typeof import("@opentelemetry/api");
    const report = opts.onError;
    const quiet = (): void => {};
    diag.setLogger({ error: (m, ...a) => report([m, ...a.map(String)].join(" ")), warn: quiet, info: quiet, debug: quiet, verbose: quiet },
      { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true });
  }
  const exporter = new OTLPMetricExporter({ url: metricsUrl(opts.url), headers: opts.headers });
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter, exportIntervalMillis: opts.intervalMs ?? 10_000, metricProducers: [producer],
  });
  const provider = new sdk.MeterProvider({
    resource: resourceFromAttributes({ "service.name": opts.serviceName ?? "tsbcc" }), readers: [reader],
  });
  let closed = false;
  return {
    flush: () => reader.forceFlush(),
    async close() {
      if (closed) return;
      closed = true;
      await provider.shutdown();
    },
  };
}
