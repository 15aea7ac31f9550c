// A real Prometheus server for tests: Debian's `prometheus` started on a free loopback port with a temporary
// config (1 s scrape interval) and storage directory, queried through its HTTP API.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const havePrometheus = existsSync(PROMETHEUS_BIN);

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface PrometheusServer {
  url: string;
  /** Instant PromQL query: the result vector as [labels, value] pairs. */
  query(promql: string): Promise<[Record<string, string>, number][]>;
  /** Instant query of a range selector (`name[1m]`): every stored sample, as [labels, [[time, value], ...]]. */
  samples(promql: string): Promise<[Record<string, string>, [number, number][]][]>;
  /** The metric's HELP and TYPE as Prometheus stored them (/api/v1/metadata). */
  metadata(name: string): Promise<{ type: string; help: string }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-prom-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tsbcc\n` +
    `    static_configs:\n      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]\n`);
  const port = await freePort();
  const child: ChildProcess = spawn(PROMETHEUS_BIN, [
    `--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (i > 200 || child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async <T>(path: string): Promise<T> => {
    const body = (await (await fetch(`${url}/api/v1/${path}`)).json()) as { status: string; data: T };
    if (body.status !== "success") throw new Error(`${path} failed: ${JSON.stringify(body)}`);
    return body.data;
  };
  type Result<V> = { result: ({ metric: Record<string, string> } & V)[] };
  return {
    url,
    async query(promql) {
      const data = await api<Result<{ value: [number, string] }>>(`query?query=${encodeURIComponent(promql)}`);
      return data.result.map((r) => [r.metric, Number(r.value[1])]);
    },
    async samples(promql) {
      const data = await api<Result<{ values: [number, string][] }>>(`query?query=${encodeURIComponent(promql)}`);
      return data.result.map((r) => [r.metric, r.values.map(([t, v]) => [t, Number(v)])]);
    },
    async metadata(name) {
      return (await api<Record<string, { type: string; help: string }[]>>(`metadata?metric=${encodeURIComponent(name)}`))[name] ?? [];
    },
    stop,
  };
}
