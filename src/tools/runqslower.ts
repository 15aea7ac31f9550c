// runqslower: one line per run-queue wait longer than a threshold (default 10 ms), naming the task that waited
// (and with -P the task it replaced), from the shared run-queue program on sched raw tracepoints.
import { UsageError } from "./lib/errors.js";
import { clock, left, right } from "./lib/format.js";
import { RUNQ_SOURCES, runqProgram } from "./lib/runq-program.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { pidOption, tidOption } from "./lib/options.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "runqslower";
const DEFAULT_MIN_US = 10000;

export interface RunqSlowEvent {
  ts: bigint;
  /** The task that waited. */
  tid: number;
  pid: number;
  comm: string;
  latencyUs: number;
  /** The task it replaced on the CPU. */
  prevTid: number;
  prevComm: string;
}

export interface RunqslowerOptions extends StreamOptions {
  /** Minimum latency to report, microseconds (default 10000). */
  minUs?: number;
  pid?: number;
  tid?: number;
}

function program(o: RunqslowerOptions, k: ToolConstants): string {
  return runqProgram(k, { pid: o.pid, tid: o.tid }, `
${k.u64("MIN_US", o.minUs ?? DEFAULT_MIN_US)}
struct slow_event_t {
    u64 ts;
    u64 delta_us;
    u32 tid;
    u32 pid;
    u32 prev_tid;
    u32 pad;
    char comm[TASK_COMM_LEN];
    char prev_comm[TASK_COMM_LEN];
};
BPF_PERF_OUTPUT(events);
`, `
    u64 delta_us = delta_ns / 1000;
    if (delta_us < MIN_US) return 0;
    struct slow_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.delta_us = delta_us;
    ev.tid = tid;
    ev.pid = next->tgid;
    ev.prev_tid = prev->pid;
    bpf_probe_read_kernel_str(&ev.comm, sizeof(ev.comm), next->comm);
    bpf_probe_read_kernel_str(&ev.prev_comm, sizeof(ev.prev_comm), prev->comm);
    events.perf_submit(ctx, &ev, sizeof(ev));
`);
}

interface RawSlow { ts: bigint; delta_us: bigint | number; tid: number; pid: number; prev_tid: number; comm: string; prev_comm: string }

/** runqslower as a library: one RunqSlowEvent per wait above the threshold. */
export async function runqslower(opts: RunqslowerOptions = {}, chosen?: ChosenSource): Promise<ToolStream<RunqSlowEvent>> {
  for (const k of ["minUs", "pid", "tid"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${v}`);
  }
  if (opts.pid !== undefined && opts.tid !== undefined) throw new UsageError(NAME, "pid and tid cannot be combined");
  const source = chosen ?? chooseSource(NAME, RUNQ_SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  return eventStream<RawSlow, RunqSlowEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, tid: r.tid, pid: r.pid, comm: r.comm, latencyUs: Number(r.delta_us), prevTid: r.prev_tid, prevComm: r.prev_comm,
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace high run queue latency",
  json: "event",
  sources: RUNQ_SOURCES,
  options: [
    { name: "previous", short: "P", long: "previous", kind: "flag", help: "also show previous task name and TID" },
    pidOption(),
    tidOption(),
  ],
  positionals: [{ name: "min_us", parse: "uint", default: DEFAULT_MIN_US, help: "minimum run queue latency to trace, in us (default 10000)" }],
  examples: [
    ["tsbcc runqslower", "trace run queue latency higher than 10000 us (default)"],
    ["tsbcc runqslower 1000", "trace run queue latency higher than 1000 us"],
    ["tsbcc runqslower -p 123", "trace pid 123"],
    ["tsbcc runqslower -t 123", "trace tid 123 (use for threads only)"],
    ["tsbcc runqslower -P", "also show previous task comm and TID"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.pid !== undefined && o.tid !== undefined) throw new UsageError(NAME, "argument -t/--tid: not allowed with argument -p/--pid");
  const stream = await runqslower({ minUs: o.min_us, pid: o.pid, tid: o.tid, signal: run.signal }, run.source);
  if (!run.json) {
    run.out.write(`Tracing run queue latency higher than ${o.min_us} us\n`);
    run.out.write(`${left("TIME", 8)} ${left("COMM", 16)} ${left("TID", 6)} ${right("LAT(us)", 14)}` + (o.previous ? ` ${left("PREV COMM", 16)} ${left("PREV TID", 6)}` : "") + "\n");
  }
  return printEvents(stream, run, (ev) => {
    return (`${left(clock(), 8)} ${left(ev.comm, 16)} ${left(ev.tid, 6)} ${right(ev.latencyUs, 14)}` + (o.previous ? ` ${left(ev.prevComm, 16)} ${left(ev.prevTid, 6)}` : "") + "\n");
  });
}

export const tool: CliTool = { spec, main };
