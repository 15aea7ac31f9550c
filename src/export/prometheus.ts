// Prometheus text exposition format (version 0.0.4) for a MetricsRegistry, and the /metrics server. The server
// renders only when scraped: between scrapes nothing runs (no timers, no map reads).
import type { IncomingMessage, ServerResponse } from "node:http";
import { ArgumentError } from "../errors.js";
import { listen, type ListenOptions, type Listening } from "./listen.js";
import { MetricsRegistry, type Labels, type MetricSnapshot } from "./metrics.js";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

/** A number as Prometheus reads it: integers exact, floats shortest round-trip, +Inf/-Inf/NaN by name. */
export function formatValue(v: number | bigint): string {
  if (typeof v === "bigint") return String(v);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? BigInt(v).toString() : String(v);
}

function renderOne(m: MetricSnapshot): string {
  const help = m.type === "histogram" && m.points.some((p) => p.sumEstimated)
    ? `${m.help} (${m.unit || "value"}; _sum estimated from bucket midpoints)`
    : m.unit ? `${m.help} (${m.unit})` : m.help;
  let out = `# HELP ${m.name} ${escapeHelp(help)}\n# TYPE ${m.name} ${m.type}\n`;
  if (m.type !== "histogram") {
    for (const p of m.points) out += `${m.name}${labelText(p.labels)} ${formatValue(p.value)}\n`;
    return out;
  }
  for (const p of m.points) {
    let cumulative = 0n;
    p.bounds.forEach((le, i) => {
      cumulative += p.counts[i]!;
      out += `${m.name}_bucket${labelText(p.labels, ["le", formatValue(le)])} ${cumulative}\n`;
    });
    out += `${m.name}_bucket${labelText(p.labels, ["le", "+Inf"])} ${p.count}\n`;
    out += `${m.name}_sum${labelText(p.labels)} ${formatValue(p.sum)}\n`;
    out += `${m.name}_count${labelText(p.labels)} ${p.count}\n`;
  }
  return out;
}

/** The whole registry (or given snapshots) in the Prometheus text format. */
export function renderPrometheus(source: MetricsRegistry | readonly MetricSnapshot[]): string {
  const snaps = source instanceof MetricsRegistry ? source.collect() : source;
  if (!Array.isArray(snaps)) throw new ArgumentError("source", "must be a MetricsRegistry or an array of snapshots");
  return snaps.map(renderOne).join("");
}

export interface MetricsServerOptions extends ListenOptions {
  /** Default "/metrics". */
  path?: string;
  /** Told about a collect that threw (the scrape gets HTTP 500). */
  onError?: (e: unknown) => void;
}

export interface MetricsServer extends Listening {
  /** How many times /metrics was rendered (tests and the idle-cost bench read it). */
  readonly scrapes: number;
}

/** Serves `registry` at http://host:port/metrics; reads the metrics only when a request comes. */
export async function serveMetrics(registry: MetricsRegistry, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  if (!(registry instanceof MetricsRegistry)) throw new ArgumentError("registry", "must be a MetricsRegistry");
  const path = opts.path ?? "/metrics";
  if (typeof path !== "string" || !path.startsWith("/")) throw new ArgumentError("path", "must start with /");
  let scrapes = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = (req.url ?? "/").split("?")[0];
    if (url === "/" && path !== "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<html><body><a href="${path}">${path}</a></body></html>\n`);
      return;
    }
    if (url !== path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    let body: string;
    try {
      body = renderPrometheus(registry);
      scrapes++;
    } catch (e) {
      opts.onError?.(e);
      res.writeHead(500, { "content-type": "text/plain" }).end(`collect failed: ${(e as Error)?.message ?? String(e)}\n`);
      return;
    }
    res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  const l = await listen(opts, handler);
  return Object.defineProperty(l, "scrapes", { get: () => scrapes, enumerable: true }) as MetricsServer;
}
