// The exporter options every histogram/counter tool (spec.json "interval") shares: `--prometheus HOST:PORT` serves
// /metrics while the tool runs, `--otlp URL` pushes OTLP/HTTP, both from the tool's IntervalReports summed over its
// intervals (src/tools/lib/report-metrics.ts). Checked at parse time (usage errors, exit 2); the exporter code and the
// OpenTelemetry SDK are loaded only when asked for, so a plain run starts as fast as before.
import { isLoopback, parseHostPort } from "../../export/address.js";
import type { ParsedValues, OptionSpec } from "./args.js";
import { UsageError } from "./errors.js";
import { positiveNumber } from "./options.js";
import { withReportSink } from "./report-sink.js";

function hostPort(text: string): string {
  try {
    parseHostPort(text);
  } catch {
    throw new UsageError("--prometheus", `expected HOST:PORT (port 0..65535, 0 picks a free one), got '${text}'`);
  }
  return text;
}

function httpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError("--otlp", `not a URL: '${text}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError("--otlp", `must be an http:// or https:// URL, got '${text}'`);
  return text;
}

export const EXPORTER_OPTIONS: readonly OptionSpec[] = [
  { name: "prometheus", long: "prometheus", kind: "value", metavar: "HOST:PORT", parse: hostPort,
    help: "serve the metrics at http://HOST:PORT/metrics (Prometheus text format) while running; port 0 picks a free one" },
  { name: "otlp", long: "otlp", kind: "value", metavar: "URL", parse: httpUrl,
    help: "push the metrics as OTLP/HTTP to URL (e.g. http://127.0.0.1:4318, the collector's /v1/metrics)" },
  { name: "otlpInterval", long: "otlp-interval", kind: "value", metavar: "SECS", parse: positiveNumber, help: "seconds between OTLP pushes (default 10)" },
  { name: "allowRemote", long: "allow-remote", kind: "flag", help: "allow a non-loopback --prometheus address (the metrics become visible to that network)" },
];

/**
 * Runs `main` with the exporters the options ask for: started before it (their address is told on `err`), fed every
 * IntervalReport the tool's streams produce, closed after it (OTLP pushes a last time). Without exporter options,
 * just runs `main`.
 */
export async function withExporters(prog: string, values: ParsedValues, err: { write(s: string): unknown },
  main: () => Promise<number>): Promise<number> {
  if (values.prometheus === undefined && values.otlp === undefined) {
    if (values.otlpInterval !== undefined) throw new UsageError(prog, "argument --otlp-interval: needs --otlp");
    if (values.allowRemote) throw new UsageError(prog, "argument --allow-remote: needs --prometheus");
    return main();
  }
  if (values.prometheus !== undefined && !values.allowRemote && !isLoopback(parseHostPort(values.prometheus).host)) {
    throw new UsageError(prog, `argument --prometheus: ${values.prometheus} is not a loopback address (add --allow-remote to serve other hosts)`);
  }
  const { startExporters } = await import("../../export/exporters.js");
  const { ReportMetrics } = await import("./report-metrics.js");
  const metrics = new ReportMetrics();
  const exporters = await startExporters(metrics.registry, {
    prometheus: values.prometheus, otlp: values.otlp, allowRemote: values.allowRemote === true,
    otlpIntervalMs: values.otlpInterval === undefined ? undefined : Math.max(100, Math.round(values.otlpInterval * 1000)),
    log: (line) => err.write(`${prog}: ${line}\n`),
  });
  try {
    return await withReportSink((r) => metrics.absorb(r), main);
  } finally {
    await exporters.close();
  }
}
