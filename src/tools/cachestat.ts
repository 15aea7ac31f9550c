// cachestat: page cache hits, misses and dirtied buffers per interval, with the hit ratio and the Buffers/Cached
// sizes of /proc/meminfo. It counts calls of four kernel functions, each looked up under its current or older
// name: folio_mark_accessed (mark_page_accessed), mark_buffer_dirty, filemap_add_folio (add_to_page_cache_lru),
// folio_account_dirtied (__folio_mark_dirty, account_page_dirtied); hits = accesses - buffer dirties - misses,
// misses = additions - dirtied pages, as BCC computes them. Needs fentry or kprobes: no tracepoint marks a page
// cache access (a hit), so counting additions (filemap:mm_filemap_add_to_page_cache) and dirtied folios
// (writeback:writeback_dirty_folio) alone could not give hits or a ratio; without function probes the tool says so.
import { readFileSync } from "node:fs";
import { clock, left, right } from "./lib/format.js";
import { fnProbeText, type FnProbe } from "./lib/fn-probes.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, timeOption, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { intervalStream, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, loadSourceProgram } from "./lib/top.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "cachestat";

export type CachestatOptions = IntervalOptions;

/** One interval's figures, as BCC prints them. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** mark_buffer_dirty calls (BCC's DIRTIES column). */
  dirties: number;
  /** hits / (hits + misses), 0..1 (0 when nothing was accessed). */
  ratio: number;
  buffersMb: number;
  cachedMb: number;
}

/** The four counted calls, in the order of the candidates' targets. */
const CALLS = ["accessed", "buffer_dirtied", "added", "account_dirtied"] as const;
const FUNCTIONS = [
  "folio_mark_accessed|mark_page_accessed",
  "mark_buffer_dirty",
  "filemap_add_folio|add_to_page_cache_lru",
  "folio_account_dirtied|__folio_mark_dirty|account_page_dirtied",
];

const SOURCES: readonly SourceCandidate[] = [
  { kind: "fentry", targets: FUNCTIONS },
  { kind: "kprobe", targets: FUNCTIONS },
];

function fnProbes(source: ChosenSource): FnProbe[] {
  return source.targets.map((fn, i) => ({ fn, name: `on_${CALLS[i]}`, body: `    calls.atomic_increment(${i});\n    return 0;` }));
}

function program(kind: "fentry" | "kprobe", source: ChosenSource): string {
  return `
#include <uapi/linux/ptrace.h>
BPF_ARRAY(calls, u64, ${CALLS.length});

${fnProbes(source).map((p) => fnProbeText(kind, p)).join("\n")}
`;
}

function meminfoMb(): { buffersMb: number; cachedMb: number } {
  const out = { buffersMb: 0, cachedMb: 0 };
  try {
    for (const line of readFileSync("/proc/meminfo", "utf8").split("\n")) {
      const m = /^(Buffers|Cached):\s+(\d+)/.exec(line);
      if (m) out[m[1] === "Buffers" ? "buffersMb" : "cachedMb"] = Number(m[2]) / 1024;
    }
  } catch {
    // no /proc: sizes stay 0
  }
  return out;
}

/** BCC's arithmetic from the four call counts. */
export function cacheStatsOf(accessed: number, bufferDirtied: number, added: number, accountDirtied: number): Omit<CacheStats, "buffersMb" | "cachedMb"> {
  const total = Math.max(0, accessed - bufferDirtied);
  let misses = Math.max(0, added - accountDirtied);
  let hits = total - misses;
  if (hits < 0) {
    misses = total;
    hits = 0;
  }
  return { hits, misses, dirties: bufferDirtied, ratio: total > 0 ? hits / total : 0 };
}

/** The figures of a cachestat IntervalReport. */
export function cacheStats(r: IntervalReport): CacheStats {
  const value = (name: string): number => (r.metrics.find((m) => m.name === name) as CounterMetric | undefined)?.series[0]?.value ?? 0;
  return { hits: value("cache_hits"), misses: value("cache_misses"), dirties: value("cache_dirties"), ratio: value("cache_hit_ratio"), buffersMb: value("buffers_mb"), cachedMb: value("cached_mb") };
}

/** cachestat as a library: one IntervalReport per interval (hits, misses, dirties, ratio, Buffers/Cached, raw calls). */
export async function cachestat(opts: CachestatOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const kind = source.kind as "fentry" | "kprobe";
  const b = await loadSourceProgram(NAME, program(kind, source), source, () => fnProbes(source));
  const calls = b.table("calls");
  const collect = (seconds: number): IntervalReport => {
    const v = CALLS.map((_, i) => toNumber((calls.get(i) as number | bigint | undefined) ?? 0));
    calls.clear();
    const s = cacheStatsOf(v[0], v[1], v[2], v[3]);
    const mem = meminfoMb();
    const one = (kindOf: "counter" | "gauge", name: string, unit: string, help: string, value: number): CounterMetric =>
      ({ kind: kindOf, name, unit, help, series: [{ labels: {}, value }] });
    return report(NAME, seconds, [
      one("counter", "cache_hits", "pages", "page cache hits", s.hits),
      one("counter", "cache_misses", "pages", "page cache misses", s.misses),
      one("counter", "cache_dirties", "calls", "buffers marked dirty", s.dirties),
      one("gauge", "cache_hit_ratio", "ratio", "hits / accesses in the interval", s.ratio),
      one("gauge", "buffers_mb", "mbytes", "Buffers in /proc/meminfo", mem.buffersMb),
      one("gauge", "cached_mb", "mbytes", "Cached in /proc/meminfo", mem.cachedMb),
      { kind: "counter", name: "page_cache_calls", unit: "calls", help: "calls of the counted kernel functions", series: CALLS.map((c, i) => ({ labels: { call: c, function: source.targets[i] }, value: v[i] })) },
    ]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Count cache kernel function calls",
  json: "interval",
  sources: SOURCES,
  options: [timeOption()],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc cachestat", "show page cache hits and misses every second"],
    ["tsbcc cachestat -T 1", "with a timestamp, every second"],
    ["tsbcc cachestat 5 3", "three 5-second summaries"],
    ["tsbcc cachestat -v", "say which kernel functions are counted"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const interval = o.interval ?? 1;
  const stream = await cachestat({ interval, count: o.count, signal: run.signal }, run.source);
  if (!run.json) {
    run.out.write(`${o.timestamp ? `${left("TIME", 8)} ` : ""}${["HITS", "MISSES", "DIRTIES", "HITRATIO"].map((h) => right(h, 8)).join(" ")} ${right("BUFFERS_MB", 12)} ${right("CACHED_MB", 10)}\n`);
  }
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    const s = cacheStats(r);
    run.out.write(`${o.timestamp ? `${left(clock(), 8)} ` : ""}${right(s.hits, 8)} ${right(s.misses, 8)} ${right(s.dirties, 8)} ${right(`${(100 * s.ratio).toFixed(2)}%`, 8)} ` +
      `${right(s.buffersMb.toFixed(0), 12)} ${right(s.cachedMb.toFixed(0), 10)}\n`);
  }
  if (!run.json && run.signal?.aborted) run.out.write("Detaching...\n");
  return 0;
}

export const tool: CliTool = { spec, main };
