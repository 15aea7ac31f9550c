// exitsnoop: one line per process exit (or thread exit with --per-thread), with its age and how it ended (exit
// code, or the signal that killed it), from the sched:sched_process_exit tracepoint and the exiting task's BTF.
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import { pidOption, failedOption, timeOption } from "./lib/options.js";
import { signalName } from "./lib/signals.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "exitsnoop";

export interface ExitEvent {
  /** Kernel monotonic time of the exit, nanoseconds. */
  ts: bigint;
  pid: number;
  tid: number;
  ppid: number;
  comm: string;
  /** Seconds since the task started. */
  ageSeconds: number;
  /** The exit status (exit(N)), when it exited normally. */
  exitCode?: number;
  /** The signal that ended it, when one did. */
  signal?: number;
  coreDumped: boolean;
}

export interface ExitsnoopOptions extends StreamOptions {
  pid?: number;
  /** Only non-zero exits and signals. */
  failed?: boolean;
  /** Every thread's exit, not only the thread-group leader's. */
  perThread?: boolean;
}

const SOURCES = [{ kind: "tracepoint", targets: ["sched:sched_process_exit"] }] as const;

function program(o: ExitsnoopOptions, k: ToolConstants): string {
  return `
#include <linux/sched.h>

${k.u32("FILTER_PID", o.pid ?? 0)}
#define PER_THREAD ${o.perThread ? 1 : 0}
#define ONLY_FAILED ${o.failed ? 1 : 0}

struct exit_event_t {
    u64 ts;
    u64 start_ns;
    u32 pid;
    u32 tid;
    u32 ppid;
    int exit_code;
    char comm[TASK_COMM_LEN];
};

BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(sched, sched_process_exit) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    u32 tgid = task->tgid, tid = task->pid;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (!PER_THREAD && tgid != tid) return 0;
    int code = task->exit_code;
    if (ONLY_FAILED && code == 0) return 0;
    struct exit_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.start_ns = task->start_time;
    ev.pid = tgid;
    ev.tid = tid;
    ev.ppid = task->real_parent->tgid;
    ev.exit_code = code;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawExit { ts: bigint; start_ns: bigint; pid: number; tid: number; ppid: number; exit_code: number; comm: string }

const SIGNAL_MASK = 0x7f;
const CORE_DUMP_BIT = 0x80;

/** exitsnoop as a library: one ExitEvent per exit. */
export async function exitsnoop(opts: ExitsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<ExitEvent>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  return eventStream<RawExit, ExitEvent>(b, "events", source, opts, (r) => {
    const sig = r.exit_code & SIGNAL_MASK;
    return {
      ts: r.ts, pid: r.pid, tid: r.tid, ppid: r.ppid, comm: r.comm, ageSeconds: Number(r.ts - r.start_ns) / 1e9,
      ...(sig === 0 ? { exitCode: (r.exit_code >> 8) & 0xff } : { signal: sig }),
      coreDumped: (r.exit_code & CORE_DUMP_BIT) !== 0,
    };
  });
}

/** BCC's EXIT_CODE column: "0", "code N", "signal N (NAME)", with ", core dumped". */
export function exitDescription(ev: ExitEvent): string {
  let s = ev.signal !== undefined ? `signal ${ev.signal} (${signalName(ev.signal) ?? "?"})` : ev.exitCode === 0 ? "0" : `code ${ev.exitCode}`;
  if (ev.coreDumped) s += ", core dumped";
  return s;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace all process termination (exit, fatal signal)",
  json: "event",
  sources: SOURCES,
  options: [
    timeOption("include timestamp (local time default)", "t"),
    { name: "utc", long: "utc", kind: "flag", help: "include timestamp in UTC (-t implied)" },
    pidOption(),
    { name: "label", long: "label", kind: "value", help: "label each line" },
    failedOption("trace only fails, exclude exit(0)"),
    { name: "perThread", long: "per-thread", kind: "flag", help: "trace per thread termination" },
  ],
  examples: [
    ["tsbcc exitsnoop", "trace all process termination"],
    ["tsbcc exitsnoop -x", "trace only fails, exclude exit(0)"],
    ["tsbcc exitsnoop -t", "include timestamps (local time)"],
    ["tsbcc exitsnoop --utc", "include timestamps (UTC)"],
    ["tsbcc exitsnoop -p 181", "only trace PID 181"],
    ["tsbcc exitsnoop --label=exit", "label each output line with 'exit'"],
    ["tsbcc exitsnoop --per-thread", "trace per thread termination"],
  ],
};

function timeOfDay(utc: boolean): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return utc
    ? `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`
    : `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stamp = o.timestamp || o.utc;
  const stream = await exitsnoop({ pid: o.pid, failed: o.failed, perThread: o.perThread, signal: run.signal }, run.source);
  if (!run.json) {
    run.out.write((stamp ? left(o.utc ? "TIME-UTC" : "TIME-TZ", 13) : "") + (o.label !== undefined ? left("LABEL", 6) : "") +
      `${left("PCOMM", 16)} ${left("PID", 7)} ${left("PPID", 7)} ${left("TID", 7)} ${left("AGE(s)", 7)} EXIT_CODE\n`);
  }
  return printEvents(stream, run, (ev) => {
    return ((stamp ? left(timeOfDay(o.utc), 13) : "") + (o.label !== undefined ? left(o.label, 6) : "") +
      `${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.ppid, 7)} ${left(ev.tid, 7)} ${left(ev.ageSeconds.toFixed(2), 7)} ${exitDescription(ev)}\n`);
  }, (ev) => ({ ...(o.label !== undefined ? { label: o.label } : {}), ...ev }));
}

export const tool: CliTool = { spec, main };
