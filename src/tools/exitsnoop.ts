// exitsnoop: one line per process exit (or thread exit with --per-thread), with its age and how it ended (exit
// code, or the signal that killed it), from the sched:sched_process_exit tracepoint and the exiting task's BTF.
// As BCC's: -p PID ends once that process has exited, -t/--utc head the time column with the time zone's name,
// a bare --label= labels lines "exit", --ebpf prints the program and exits; -T is libbpf-tools' --per-thread.
import { execFileSync } from "node:child_process";
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import { pidOption, failedOption, timeOption } from "./lib/options.js";
import { signalName } from "./lib/signals.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { ToolConstants } from "./lib/constants.js";

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

function check(opts: ExitsnoopOptions): void {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  for (const k of ["failed", "perThread"] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== "boolean") throw new UsageError(NAME, `${k} must be true or false, got ${String(opts[k])}`);
  }
}

/** The BPF C program exitsnoop loads for `opts`, its filter values written in as #defines (BCC's --ebpf output). */
export function exitsnoopProgram(opts: ExitsnoopOptions = {}): string {
  check(opts);
  return program(opts, new ToolConstants(true));
}

/** exitsnoop as a library: one ExitEvent per exit. */
export async function exitsnoop(opts: ExitsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<ExitEvent>> {
  check(opts);
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

/** BCC's EXIT_CODE column: "0", "code N", "signal N (NAME)" ("unknown" for a number without a name), ", core dumped". */
export function exitDescription(ev: ExitEvent): string {
  let s = ev.signal !== undefined ? `signal ${ev.signal} (${signalName(ev.signal) ?? "unknown"})` : ev.exitCode === 0 ? "0" : `code ${ev.exitCode}`;
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
    { name: "label", long: "label", kind: "value", help: "label each line (an empty LABEL: 'exit')" },
    failedOption("trace only fails, exclude exit(0)"),
    { name: "perThread", long: "per-thread", kind: "flag", help: "trace per thread termination" },
    { name: "perThread", short: "T", long: "threaded", kind: "flag", help: "the same as --per-thread (libbpf-tools' name)" },
    { name: "ebpf", long: "ebpf", kind: "flag", help: "print the BPF program and exit", hidden: true },
  ],
  examples: [
    ["tsbcc exitsnoop", "trace all process termination"],
    ["tsbcc exitsnoop -x", "trace only fails, exclude exit(0)"],
    ["tsbcc exitsnoop -t", "include timestamps (local time)"],
    ["tsbcc exitsnoop --utc", "include timestamps (UTC)"],
    ["tsbcc exitsnoop -p 181", "only trace PID 181 (ends once it has exited)"],
    ["tsbcc exitsnoop --label=exit", "label each output line with 'exit'"],
    ["tsbcc exitsnoop --per-thread", "trace per thread termination"],
    ["tsbcc exitsnoop -T -p 181", "each thread of PID 181, until its main thread exits"],
  ],
};

function timeOfDay(utc: boolean): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return utc
    ? `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`
    : `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The local time zone's abbreviation as strftime's %Z gives it (BCC's TIME-<zone> header): date(1), else Intl's. */
export function zoneName(): string {
  try {
    const z = execFileSync("date", ["+%Z"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (z !== "") return z;
  } catch { /* no date(1): Intl below */ }
  return new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(new Date()).find((x) => x.type === "timeZoneName")?.value ?? "TZ";
}

/** The events up to and including the exit of `pid`'s main thread (BCC's exitsnoop -p ends there). */
async function* untilExitOf(stream: AsyncIterable<ExitEvent>, pid: number): AsyncGenerator<ExitEvent> {
  for await (const ev of stream) {
    yield ev;
    if (ev.tid === pid) return;
  }
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stamp = o.timestamp || o.utc;
  const opts: ExitsnoopOptions = { pid: o.pid, failed: o.failed, perThread: o.perThread, signal: run.signal };
  if (o.ebpf) {
    run.out.write(`${exitsnoopProgram(opts)}\n`);
    return 0;
  }
  const label = o.label === "" ? "exit" : o.label;
  const stream = await exitsnoop(opts, run.source);
  if (!run.json) {
    run.out.write((stamp ? left(`TIME-${o.utc ? "UTC" : zoneName()}`, 13) : "") + (label !== undefined ? left("LABEL", 6) : "") +
      `${left("PCOMM", 16)} ${left("PID", 7)} ${left("PPID", 7)} ${left("TID", 7)} ${left("AGE(s)", 7)} EXIT_CODE\n`);
  }
  return printEvents(o.pid ? untilExitOf(stream, o.pid) : stream, run, (ev) => {
    return ((stamp ? left(timeOfDay(o.utc), 13) : "") + (label !== undefined ? left(label, 6) : "") +
      `${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.ppid, 7)} ${left(ev.tid, 7)} ${left(ev.ageSeconds.toFixed(2), 7)} ${exitDescription(ev)}\n`);
  }, (ev) => ({ ...(label !== undefined ? { label } : {}), ...ev }));
}

export const tool: CliTool = { spec, main };
