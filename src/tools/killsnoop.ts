// killsnoop: one line per kill() syscall (sender, signal, target, result), from the syscalls:sys_{enter,exit}_kill
// tracepoints: the enter event keeps the arguments per thread, the exit event reports them with the result.
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { parseSignal } from "./lib/signals.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { failedOption, pidOption } from "./lib/options.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "killsnoop";

export interface KillEvent {
  ts: bigint;
  /** The sender. */
  pid: number;
  comm: string;
  signal: number;
  /** kill()'s pid argument (the target; 0 or negative for process groups). */
  targetPid: number;
  /** 0, or -errno. */
  result: number;
}

export interface KillsnoopOptions extends StreamOptions {
  /** Sender pid. */
  pid?: number;
  /** Target pid. */
  targetPid?: number;
  signalFilter?: number;
  failed?: boolean;
}

const SOURCES = [{ kind: "tracepoint", targets: ["syscalls:sys_enter_kill", "syscalls:sys_exit_kill"] }] as const;

function program(o: KillsnoopOptions, k: ToolConstants): string {
  return `
#include <linux/sched.h>

${k.u32("FILTER_PID", o.pid ?? 0)}
${k.u32("FILTER_TPID", o.targetPid ?? 0)}
${k.s32("FILTER_SIG", o.signalFilter ?? 0)}

struct kill_args_t {
    int tpid;
    int sig;
};

struct kill_event_t {
    u64 ts;
    u32 pid;
    int tpid;
    int sig;
    int ret;
    char comm[TASK_COMM_LEN];
};

BPF_HASH(pending, u32, struct kill_args_t, 1024);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(syscalls, sys_enter_kill) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    int tpid = args->pid, sig = args->sig;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (FILTER_TPID && tpid != FILTER_TPID) return 0;
    if (FILTER_SIG && sig != FILTER_SIG) return 0;
    struct kill_args_t a = { .tpid = tpid, .sig = sig };
    pending.update(&tid, &a);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_kill) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct kill_args_t *a = pending.lookup(&tid);
    if (!a) return 0;
    struct kill_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = id >> 32;
    ev.tpid = a->tpid;
    ev.sig = a->sig;
    ev.ret = args->ret;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    events.perf_submit(args, &ev, sizeof(ev));
    pending.delete(&tid);
    return 0;
}
`;
}

interface RawKill { ts: bigint; pid: number; tpid: number; sig: number; ret: number; comm: string }

/** killsnoop as a library: one KillEvent per kill(). */
export async function killsnoop(opts: KillsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<KillEvent>> {
  for (const k of ["pid", "signalFilter"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${v}`);
  }
  if (opts.targetPid !== undefined && !Number.isInteger(opts.targetPid)) throw new UsageError(NAME, `targetPid must be an integer, got ${opts.targetPid}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  return eventStream<RawKill, KillEvent>(b, "events", source, opts, (r) =>
    opts.failed && r.ret >= 0 ? undefined : { ts: r.ts, pid: r.pid, comm: r.comm, signal: r.sig, targetPid: r.tpid, result: r.ret });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace signals issued by the kill() syscall",
  json: "event",
  sources: SOURCES,
  options: [
    failedOption("only show failed kill syscalls"),
    pidOption("trace this PID only which is the sender of signal"),
    { name: "tpid", short: "T", long: "tpid", kind: "value", parse: "int", help: "trace this target PID only which is the receiver of signal" },
    { name: "signal", short: "s", long: "signal", kind: "value", parse: parseSignal, help: "trace this signal only" },
  ],
  examples: [
    ["tsbcc killsnoop", "trace all kill() signals"],
    ["tsbcc killsnoop -x", "only show failed kills"],
    ["tsbcc killsnoop -p 181", "only trace PID 181"],
    ["tsbcc killsnoop -T 189", "only trace target PID 189"],
    ["tsbcc killsnoop -s 9", "only trace signal 9"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await killsnoop({ pid: o.pid, targetPid: o.tpid, signalFilter: o.signal, failed: o.failed, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`${left("TIME", 9)} ${left("PID", 7)} ${left("COMM", 16)} ${left("SIG", 4)} ${left("TPID", 7)} RESULT\n`);
  return printEvents(stream, run, (ev) => `${left(clock(), 9)} ${left(ev.pid, 7)} ${left(ev.comm, 16)} ${left(ev.signal, 4)} ${left(ev.targetPid, 7)} ${ev.result}\n`);
}

export const tool: CliTool = { spec, main };
