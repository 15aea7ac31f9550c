// One call for a tool's exporter options: `--prometheus HOST:PORT` serves /metrics, `--otlp URL` pushes OTLP, both
// from the same registry. A tool registers its metrics (exposeTable), calls startExporters with the option values,
// and closes the result at exit (which pushes OTLP one last time).
import { ArgumentError } from "../errors.js";
import { parseHostPort } from "./listen.js";
import { MetricsRegistry } from "./metrics.js";
import { startOtlpPush, type OtlpPusher } from "./otlp.js";
import { serveMetrics, type MetricsServer } from "./prometheus.js";

export interface ExporterFlags {
  /** `--prometheus HOST:PORT` (loopback only unless allowRemote). */
  prometheus?: string;
  /** `--otlp URL`, e.g. http://127.0.0.1:4318/v1/metrics. */
  otlp?: string;
  /** OTLP push period, default 10 000 ms. */
  otlpIntervalMs?: number;
  allowRemote?: boolean;
  /** Told where metrics are served and when a push fails (a tool prints on stderr; stdout stays the tool's output). */
  log?: (line: string) => void;
}

export interface Exporters {
  readonly prometheus?: MetricsServer;
  readonly otlp?: OtlpPusher;
  close(): Promise<void>;
}

export async function startExporters(registry: MetricsRegistry, flags: ExporterFlags): Promise<Exporters> {
  if (!(registry instanceof MetricsRegistry)) throw new ArgumentError("registry", "must be a MetricsRegistry");
  if (flags === null || typeof flags !== "object") throw new ArgumentError("flags", "must be an object");
  const prometheus = flags.prometheus !== undefined
    ? await serveMetrics(registry, { ...parseHostPort(flags.prometheus, "--prometheus"), allowRemote: flags.allowRemote })
    : undefined;
  let otlp: OtlpPusher | undefined;
  try {
    if (flags.otlp !== undefined) otlp = await startOtlpPush(registry, {
      url: flags.otlp, intervalMs: flags.otlpIntervalMs,
      onError: flags.log && ((m) => flags.log!(`OTLP push failed: ${m}`)),
    });
  } catch (e) {
    await prometheus?.close();
    throw e;
  }
  if (prometheus) flags.log?.(`serving Prometheus metrics at ${prometheus.url}/metrics`);
  if (otlp) flags.log?.(`pushing OTLP metrics to ${flags.otlp}`);
  return {
    prometheus, otlp,
    async close() {
      await Promise.all([prometheus?.close(), otlp?.close()]);
    },
  };
}
