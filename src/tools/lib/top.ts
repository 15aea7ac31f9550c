// What the interval tools added with the fentry/kprobe family share: option checks of the library functions
// (pid, interval, count), loading a program whose probes are fentry, kprobe or tracepoint ones, and the CLI side of
// BCC's top-style tools (clear or blank line, the loadavg line, one table per interval, "Detaching...").
import { readFileSync } from "node:fs";
import type { BPF } from "../../index.js";
import type { ProgramText } from "./constants.js";
import { UsageError } from "./errors.js";
import { clock, left } from "./format.js";
import { attachFnProbes, isFnKind, type FnProbe } from "./fn-probes.js";
import type { IntervalReport } from "./metrics.js";
import type { ChosenSource } from "./source.js";
import { attachToolProgram, loadToolProgram, type ToolStream } from "./stream.js";
import type { ToolRun } from "./tool.js";

/** Throws UsageError for a pid that is not a non-negative integer, a non-positive interval or count. */
export function checkIntervalOptions(tool: string, o: { pid?: number; interval?: number; count?: number }): void {
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || o.pid < 0)) throw new UsageError(tool, `pid must be a non-negative integer, got ${o.pid}`);
  if (o.interval !== undefined && !(o.interval > 0)) throw new UsageError(tool, `interval must be positive, got ${o.interval}`);
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count > 0)) throw new UsageError(tool, `count must be a positive integer, got ${o.count}`);
}

/** Loads the tool's program and, for fentry/kprobe sources, attaches `probes()` (tracepoints attach themselves). */
export async function loadSourceProgram(tool: string, text: ProgramText, source: ChosenSource, probes: () => FnProbe[]): Promise<BPF> {
  const b = await loadToolProgram(tool, text);
  if (isFnKind(source.kind)) {
    const kind = source.kind;
    attachToolProgram(tool, b, (p) => attachFnProbes(kind, p, probes()));
  }
  return b;
}

/** BCC's top screen opening: clear (or a blank line with -C), then "HH:MM:SS loadavg: ..." unless `summary` is off. */
export function writeTopHeader(run: ToolRun, noclear: boolean, summary = true): void {
  run.out.write(noclear ? "\n" : "\x1b[H\x1b[2J");
  if (!summary) return;
  let load = "\n";
  try { load = readFileSync("/proc/loadavg", "utf8"); } catch { /* no /proc */ }
  run.out.write(`${left(clock(), 8)} loadavg: ${load}\n`);
}

/** The CLI loop of a top-style tool: the "Tracing..." line, one table (or JSON report) per interval, "Detaching...". */
export async function runTop(stream: ToolStream<IntervalReport>, run: ToolRun, interval: number, print: (r: IntervalReport) => void, detaching = true): Promise<number> {
  if (!run.json) run.out.write(`Tracing... Output every ${interval} secs. Hit Ctrl-C to end\n`);
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else print(r);
  }
  if (!run.json && detaching) run.out.write("Detaching...\n");
  return 0;
}
