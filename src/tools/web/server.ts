// `tsbcc web`'s server: reads the live sources once per interval, keeps the last few minutes of per-interval
// columns, and streams each new one to every open page over server-sent events (GET /events). The page itself
// (page.ts) is served from memory; /flame.svg is the latest flame graph when a stack source is present.
// Binds to loopback unless told otherwise, and on loopback refuses requests whose Host is another name (a web
// page elsewhere cannot read it through DNS rebinding).
import type { IncomingMessage, ServerResponse } from "node:http";
import { ArgumentError } from "../../errors.js";
import { flameGraphSvg } from "../../export/flamegraph.js";
import { isLoopback, listen, type ListenOptions, type Listening } from "../../export/listen.js";
import { LIVE_PAGE } from "./page.js";
import { startBuiltinSources, type LiveReading, type LiveSource, type ProcessCount } from "./sources.js";

/** Anything that can give folded stacks now (profile's sampler at merge time); `reason` says why it cannot. */
export interface FlameSource {
  readonly reason?: string;
  folded(): string | undefined;
  close?(): void;
}

export interface LiveViewOptions extends ListenOptions {
  /** Column width of the heat maps, default 1000 ms. */
  intervalMs?: number;
  /** Columns kept for pages that connect later, default 180. */
  history?: number;
  /** Default: the runqlat, biolatency and syscount tools (sources.ts). */
  source?: LiveSource;
  flame?: FlameSource;
  /** Refresh the flame graph every this many intervals, default 5. */
  flameEvery?: number;
}

export interface LiveFrame {
  t: number;
  runqlat?: number[];
  biolatency?: number[];
  runqlatTotal?: number;
  biolatencyTotal?: number;
  top?: (ProcessCount & { total: number })[];
  flame: { version: number; reason?: string };
  missing: Record<string, string>;
}

export interface LiveView extends Listening {
  /** Columns produced so far. */
  readonly ticks: number;
}

function delta(cur: number[] | undefined, prev: number[] | undefined): number[] | undefined {
  if (!cur) return undefined;
  return cur.map((v, i) => v - (prev?.[i] ?? 0));
}

function topProcesses(cur: ProcessCount[] | undefined, prev: Map<string, number>, n: number): LiveFrame["top"] {
  if (!cur) return undefined;
  const rows = cur.map((p) => ({ ...p, total: p.count, count: p.count - (prev.get(`${p.pid}/${p.comm}`) ?? 0) }));
  prev.clear();
  for (const p of cur) prev.set(`${p.pid}/${p.comm}`, p.count);
  return rows.filter((r) => r.count > 0).sort((a, b) => b.count - a.count).slice(0, n);
}

function checkOptions(opts: LiveViewOptions): void {
  if (opts === null || typeof opts !== "object") throw new ArgumentError("options", "must be an object");
  if (opts.intervalMs !== undefined && !(Number.isInteger(opts.intervalMs) && opts.intervalMs >= 100)) {
    throw new ArgumentError("intervalMs", "must be an integer of at least 100");
  }
  if (opts.history !== undefined && !(Number.isInteger(opts.history) && opts.history > 0)) {
    throw new ArgumentError("history", "must be a positive integer");
  }
  if (opts.source !== undefined && (typeof opts.source?.read !== "function" || typeof opts.source?.close !== "function")) {
    throw new ArgumentError("source", "must have read() and close()");
  }
  if (opts.flame !== undefined && typeof opts.flame?.folded !== "function") throw new ArgumentError("flame", "must have folded()");
}

/** Starts the live page; close() stops it and detaches the sources it started. */
export async function startLiveView(opts: LiveViewOptions = {}): Promise<LiveView> {
  checkOptions(opts);
  const intervalMs = opts.intervalMs ?? 1000;
  const keep = opts.history ?? 180;
  const flameEvery = opts.flameEvery ?? 5;
  const clients = new Set<ServerResponse>();
  const history: LiveFrame[] = [];
  const prevTop = new Map<string, number>();
  let prev: LiveReading = {};
  let flameSvg: string | undefined;
  let flameVersion = 0;
  let ticks = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    if (isLoopback(l.host) && host !== "" && !isLoopback(host)) {
      res.writeHead(403, { "content-type": "text/plain" }).end("this page answers to loopback names only\n");
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(LIVE_PAGE);
    } else if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify(history)}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
    } else if (path === "/favicon.ico") {
      res.writeHead(204).end();
    } else if (path === "/flame.svg" && flameSvg) {
      res.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "no-store" }).end(flameSvg);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  };

  const source = opts.source ?? (await startBuiltinSources({ readMs: intervalMs / 4 }));
  let l: Listening;
  try {
    prev = source.read();
    l = await listen(opts, handler);
  } catch (e) {
    if (!opts.source) await source.close();
    throw e;
  }

  const refreshFlame = (): void => {
    const folded = opts.flame?.folded();
    if (!folded) return;
    flameSvg = flameGraphSvg(folded, { title: "On-CPU stacks (last refresh)", width: 1100 });
    flameVersion++;
  };
  const tick = (): void => {
    const cur = source.read();
    if (opts.flame && ticks % flameEvery === 0) refreshFlame();
    const frame: LiveFrame = {
      t: Date.now(),
      runqlat: delta(cur.runqlat, prev.runqlat),
      biolatency: delta(cur.biolatency, prev.biolatency),
      runqlatTotal: cur.runqlat?.reduce((a, b) => a + b, 0),
      biolatencyTotal: cur.biolatency?.reduce((a, b) => a + b, 0),
      top: topProcesses(cur.syscalls, prevTop, 10),
      flame: { version: flameVersion, reason: opts.flame ? opts.flame.reason : "no stack source in this build (the profile sampler feeds this panel)" },
      missing: source.missing,
    };
    prev = cur;
    ticks++;
    history.push(frame);
    if (history.length > keep) history.shift();
    const msg = `data: ${JSON.stringify(frame)}\n\n`;
    for (const c of clients) c.write(msg);
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (e) {
      for (const c of clients) c.write(`event: failure\ndata: ${JSON.stringify(String((e as Error)?.message ?? e))}\n\n`);
    }
  }, intervalMs);

  const closeServer = l.close;
  const view = Object.assign(l, {
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.end();
      clients.clear();
      await closeServer();
      if (!opts.source) await source.close();
      opts.flame?.close?.();
    },
  });
  return Object.defineProperty(view, "ticks", { get: () => ticks, enumerable: true }) as LiveView;
}
