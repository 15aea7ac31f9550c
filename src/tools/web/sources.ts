// What the live page shows, measured by the tools' own library functions (one program per measurement in the
// codebase): runqlat (wake-up or preemption -> running), biolatency (issue -> complete) and syscount -P (syscalls per
// process). Each tool reports and clears its map every `readMs`; this source keeps the running totals (log2 slots in
// usecs, calls per process), and the server turns consecutive readings into per-interval columns. `readMs` is a
// fraction of the page's interval so a column never waits long for a tool's report.
import { biolatency } from "../biolatency.js";
import { runqlat } from "../runqlat.js";
import { syscount } from "../syscount.js";
import { slotsOf, type IntervalReport } from "../lib/metrics.js";
import type { ToolStream } from "../lib/stream.js";

export interface ProcessCount {
  pid: number;
  comm: string;
  count: number;
}

export interface LiveReading {
  /** Cumulative log2 slot counts (usecs) since the source started; slot 1 holds 0 and 1 (BCC's "0 -> 1"). */
  runqlat?: number[];
  biolatency?: number[];
  /** Cumulative syscalls per process. */
  syscalls?: ProcessCount[];
}

export interface LiveSource {
  /** Panel names this source fills, and why a wanted panel is missing (e.g. no block device). */
  readonly provides: string[];
  readonly missing: Record<string, string>;
  read(): LiveReading;
  /** Stops the source; resolves once everything it attached is released. */
  close(): void | Promise<void>;
}

const SLOTS = 64;

/** Adds a histogram report's series into `into` (cumulative slot counts). */
function addHistogram(into: number[], r: IntervalReport): void {
  for (const m of r.metrics) {
    if (m.kind !== "histogram") continue;
    for (const s of m.series) slotsOf(m, s).forEach((c, i) => (into[Math.min(i, SLOTS - 1)]! += c));
  }
}

/** Adds syscount -P's per-process counts; a process keeps the name it had while alive (it may be gone by a read). */
function addProcesses(into: Map<number, ProcessCount>, r: IntervalReport): void {
  for (const m of r.metrics) {
    if (m.kind !== "counter" || m.name !== "syscalls") continue;
    for (const s of m.series) {
      const pid = Number(s.labels.pid);
      const p = into.get(pid) ?? { pid, comm: s.labels.comm ?? "", count: 0 };
      if (p.comm === "[unknown]" && s.labels.comm) p.comm = s.labels.comm;
      p.count += s.value;
      into.set(pid, p);
    }
  }
}

/** Starts the three tools; a tool the kernel refuses leaves its panel empty with the reason. */
export async function startBuiltinSources(opts: { topSyscalls?: boolean; readMs?: number } = {}): Promise<LiveSource> {
  const interval = Math.max(50, opts.readMs ?? 250) / 1000;
  const runq = new Array<number>(SLOTS).fill(0);
  const bio = new Array<number>(SLOTS).fill(0);
  const procs = new Map<number, ProcessCount>();
  const tools: [string, () => Promise<ToolStream<IntervalReport>>, (r: IntervalReport) => void][] = [
    ["runqlat", () => runqlat({ interval }), (r) => addHistogram(runq, r)],
    ["biolatency", () => biolatency({ interval }), (r) => addHistogram(bio, r)],
  ];
  if (opts.topSyscalls !== false) tools.push(["syscalls", () => syscount({ byProcess: true, interval }), (r) => addProcesses(procs, r)]);
  const streams: Record<string, ToolStream<IntervalReport>> = {};
  const missing: Record<string, string> = {};
  const firstLine = (e: unknown): string => (e as Error)?.message?.split("\n")[0] ?? String(e);
  const consumers: Promise<unknown>[] = [];
  for (const [panel, start, add] of tools) {
    try {
      const stream = (streams[panel] = await start());
      consumers.push((async () => {
        for await (const r of stream) add(r);
      })().catch((e) => (missing[panel] = firstLine(e))));
    } catch (e) {
      missing[panel] = firstLine(e);
    }
  }
  return {
    provides: Object.keys(streams),
    missing,
    read() {
      const r: LiveReading = {};
      if (streams.runqlat) r.runqlat = [...runq];
      if (streams.biolatency) r.biolatency = [...bio];
      if (streams.syscalls) r.syscalls = [...procs.values()].map((p) => ({ ...p }));
      return r;
    },
    async close() {
      for (const s of Object.values(streams)) s.close();
      await Promise.all(consumers);
    },
  };
}
