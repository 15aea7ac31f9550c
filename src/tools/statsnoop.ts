// statsnoop: one line per stat-family syscall (stat, lstat, fstatat, statx, statfs) with its result, from the
// syscall tracepoints through the shared path-syscall program.
import { UsageError } from "./lib/errors.js";
import { left, right } from "./lib/format.js";
import { pidOption, failedOption, timeOption } from "./lib/options.js";
import { pathSyscallProgram, pathSyscallTargets, type PathSyscall, type RawPathEvent } from "./lib/path-syscalls.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "statsnoop";

export interface StatEvent {
  ts: bigint;
  pid: number;
  tid: number;
  comm: string;
  /** Which syscall: "newstat", "statx", ... (tracepoint names). */
  syscall: string;
  /** The return value (0), or -1 when it failed. */
  ret: number;
  errno: number;
  path: string;
}

export interface StatsnoopOptions extends StreamOptions {
  pid?: number;
  failed?: boolean;
}

const CALLS: PathSyscall[] = [
  { name: "newstat", path: "args->filename" },
  { name: "newlstat", path: "args->filename" },
  { name: "newfstatat", path: "args->filename" },
  { name: "statx", path: "args->filename" },
  { name: "statfs", path: "args->pathname" },
  { name: "stat", path: "args->filename" },
  { name: "lstat", path: "args->filename" },
  { name: "stat64", path: "args->filename" },
];

const SOURCES = [{ kind: "tracepoint", targets: pathSyscallTargets(CALLS, ["statx"]) }] as const;

/** statsnoop as a library: one StatEvent per stat-family call. */
export async function statsnoop(opts: StatsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<StatEvent>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => pathSyscallProgram(k, CALLS, { pid: opts.pid }, source));
  return eventStream<RawPathEvent, StatEvent>(b, "events", source, opts, (r) => {
    const failed = r.ret < 0;
    if (opts.failed && !failed) return undefined;
    return { ts: r.ts, pid: r.pid, tid: r.tid, comm: r.comm, syscall: CALLS[r.call]?.name ?? "?", ret: failed ? -1 : r.ret, errno: failed ? -r.ret : 0, path: r.path };
  });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace stat() syscalls",
  json: "event",
  sources: SOURCES,
  options: [
    timeOption(undefined, "t"),
    failedOption("only show failed stats"),
    pidOption(),
  ],
  examples: [
    ["tsbcc statsnoop", "trace all stat() syscalls"],
    ["tsbcc statsnoop -t", "include timestamps"],
    ["tsbcc statsnoop -x", "only show failed stats"],
    ["tsbcc statsnoop -p 181", "only trace PID 181"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await statsnoop({ pid: o.pid, failed: o.failed, signal: run.signal }, run.source);
  if (!run.json) run.out.write((o.timestamp ? left("TIME(s)", 14) : "") + `${left("PID", 7)} ${left("COMM", 16)} ${right("RET", 4)} ${right("ERR", 3)} PATH\n`);
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return ((o.timestamp ? left((Number(ev.ts - first) / 1e9).toFixed(9), 14) : "") +
      `${left(ev.pid, 7)} ${left(ev.comm, 16)} ${right(ev.ret, 4)} ${right(ev.errno, 3)} ${ev.path}\n`);
  });
}

export const tool: CliTool = { spec, main };
