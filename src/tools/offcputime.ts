// offcputime: time threads spend off CPU (blocked, sleeping, preempted), summed per distinct user + kernel stack.
// BCC hooks finish_task_switch with a kprobe; here the sched_switch raw tracepoint does it without kprobes: the task
// switching out is `current`, so its stacks are taken right there and kept with the time it left; when it is
// switched in again the time off CPU is added to that stack's total (microseconds).
import { BPF } from "../index.js";
import { UsageError } from "./lib/errors.js";
import { positiveInt, positiveNumber } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { printStacks, readStackCounts, stackOptions, stackStream, type StackCount } from "./lib/stacks.js";
import { loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "offcputime";
const SOURCES = [{ kind: "raw_tracepoint", targets: ["sched:sched_switch"] }] as const;

export interface OffcputimeOptions extends StreamOptions {
  pid?: number;
  tid?: number;
  /** Only user threads / only kernel threads. */
  threads?: "user" | "kernel";
  userStacks?: boolean;
  kernelStacks?: boolean;
  /** Only blocks of at least / at most this many microseconds. */
  minBlockUs?: number;
  maxBlockUs?: number;
  /** Only threads whose state when switched out matches this bitmask (0 = TASK_RUNNING: preempted). */
  state?: number;
  stackStorageSize?: number;
}

const PF_KTHREAD = 0x00200000;

function program(o: OffcputimeOptions): string {
  const threadFilter = o.threads === "user" ? `(p->flags & ${PF_KTHREAD}) == 0` : o.threads === "kernel" ? `(p->flags & ${PF_KTHREAD}) != 0` : "1";
  const stateFilter = o.state === undefined ? "1" : o.state === 0 ? "p->__state == 0" : `(p->__state & ${o.state}) != 0`;
  return `
#include <linux/sched.h>
struct key_t {
    u32 pid;
    u32 tid;
    int user_stack_id;
    int kernel_stack_id;
    char name[TASK_COMM_LEN];
};
struct off_t {
    u64 ts;
    struct key_t key;
};
BPF_HASH(start, u32, struct off_t, 10240);
BPF_HASH(counts, struct key_t, u64, 10240);
BPF_STACK_TRACE(stack_traces, ${o.stackStorageSize ?? 1024});

static int traced(struct task_struct *p) {
    u32 tgid = p->tgid, tid = p->pid;
    if (tid == 0) return 0;
    if (${o.pid ?? -1} >= 0 && tgid != ${o.pid ?? 0}) return 0;
    if (${o.tid ?? -1} >= 0 && tid != ${o.tid ?? 0}) return 0;
    if (!(${threadFilter})) return 0;
    if (!(${stateFilter})) return 0;
    return 1;
}

RAW_TRACEPOINT_PROBE(sched_switch) {
    struct task_struct *p = (struct task_struct *)ctx->args[1];
    struct task_struct *next = (struct task_struct *)ctx->args[2];
    if (traced(p)) {
        struct off_t off = {};
        off.ts = bpf_ktime_get_ns();
        off.key.pid = p->tgid;
        off.key.tid = p->pid;
        bpf_get_current_comm(&off.key.name, sizeof(off.key.name));
        off.key.user_stack_id = ${o.userStacks === false ? "-1" : "(p->flags & " + PF_KTHREAD + ") ? -1 : stack_traces.get_stackid(ctx, BPF_F_USER_STACK)"};
        off.key.kernel_stack_id = ${o.kernelStacks === false ? "-1" : "stack_traces.get_stackid(ctx, 0)"};
        u32 tid = p->pid;
        start.update(&tid, &off);
    }
    u32 ntid = next->pid;
    struct off_t *offp = start.lookup(&ntid);
    if (!offp) return 0;
    u64 delta_us = (bpf_ktime_get_ns() - offp->ts) / 1000;
    struct key_t key = offp->key;
    start.delete(&ntid);
    if (delta_us < ${o.minBlockUs ?? 1} || delta_us > ${o.maxBlockUs ?? "0xffffffffffffffffULL"}) return 0;
    u64 zero = 0;
    u64 *total = counts.lookup_or_try_init(&key, &zero);
    if (total) __sync_fetch_and_add(total, delta_us);
    return 0;
}
`;
}

function check(o: OffcputimeOptions): void {
  const bad = (m: string): never => { throw new UsageError(NAME, m); };
  for (const k of ["pid", "tid", "minBlockUs", "maxBlockUs", "state"] as const) {
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) bad(`${k} must be a non-negative integer, got ${o[k]}`);
  }
  if (o.pid !== undefined && o.tid !== undefined) bad("pid and tid are mutually exclusive");
  if (o.threads !== undefined && o.threads !== "user" && o.threads !== "kernel") bad(`threads must be "user" or "kernel", got ${String(o.threads)}`);
  if (o.userStacks === false && o.kernelStacks === false) bad("user and kernel stacks are both off: nothing to record");
}

/** offcputime as a library: one array of stacks (value = microseconds off CPU) when the stream stops. */
export async function offcputime(opts: OffcputimeOptions = {}, chosen?: ChosenSource): Promise<ToolStream<StackCount[]>> {
  check(opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts));
  if (opts.pid !== undefined) BPF.rememberProcess(opts.pid);
  const collect = (): StackCount[] => readStackCounts(b, "counts", "stack_traces", { user: opts.userStacks !== false, kernel: opts.kernelStacks !== false });
  return stackStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize off-CPU time by stack trace",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "trace this PID only" },
    { name: "tid", short: "t", long: "tid", kind: "value", parse: "uint", help: "trace this TID only" },
    { name: "userThreads", short: "u", long: "user-threads-only", kind: "flag", help: "user threads only (no kernel threads)" },
    { name: "kernelThreads", short: "k", long: "kernel-threads-only", kind: "flag", help: "kernel threads only (no user threads)" },
    ...stackOptions().filter((o) => ["userOnly", "kernelOnly", "delimited", "folded"].includes(o.name)),
    { name: "stackStorageSize", long: "stack-storage-size", kind: "value", parse: positiveInt, default: 1024, help: "the number of unique stack traces that can be stored and displayed (default 1024)" },
    { name: "minBlock", short: "m", long: "min-block-time", kind: "value", parse: "uint", default: 1, help: "the amount of time in microseconds over which we store traces (default 1)" },
    { name: "maxBlock", short: "M", long: "max-block-time", kind: "value", parse: "uint", help: "the amount of time in microseconds under which we store traces (default U64_MAX)" },
    { name: "state", long: "state", kind: "value", parse: "uint", help: "filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE) see include/linux/sched.h" },
    ...stackOptions().filter((o) => o.name === "flamegraph" || o.name === "foldedFile"),
  ],
  positionals: [{ name: "duration", parse: positiveNumber, help: "duration of trace, in seconds" }],
  examples: [
    ["tsbcc offcputime", "trace off-CPU stack time until Ctrl-C"],
    ["tsbcc offcputime 5", "trace for 5 seconds only"],
    ["tsbcc offcputime -f 5", "5 seconds, and output in folded format"],
    ["tsbcc offcputime -m 1000", "trace only events that last more than 1000 usec"],
    ["tsbcc offcputime -M 10000", "trace only events that last less than 10000 usec"],
    ["tsbcc offcputime -p 185", "only trace threads for PID 185"],
    ["tsbcc offcputime -t 188", "only trace thread 188"],
    ["tsbcc offcputime -u", "only trace user threads (no kernel)"],
    ["tsbcc offcputime -k", "only trace kernel threads (no user)"],
    ["tsbcc offcputime -U", "only show user space stacks (no kernel)"],
    ["tsbcc offcputime -K", "only show kernel space stacks (no user)"],
    ["tsbcc offcputime --flamegraph off.svg 10", "10 seconds, then write an off-CPU flame graph"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const excl = [o.pid !== undefined && "-p/--pid", o.tid !== undefined && "-t/--tid", o.userThreads && "-u/--user-threads-only", o.kernelThreads && "-k/--kernel-threads-only"].filter(Boolean);
  if (excl.length > 1) throw new UsageError(NAME, `argument ${excl[1]}: not allowed with argument ${excl[0]}`);
  if (o.userOnly && o.kernelOnly) throw new UsageError(NAME, "argument -K/--kernel-stacks-only: not allowed with argument -U/--user-stacks-only");
  const stream = await offcputime({
    pid: o.pid, tid: o.tid, threads: o.userThreads ? "user" : o.kernelThreads ? "kernel" : undefined,
    userStacks: !o.kernelOnly, kernelStacks: !o.userOnly, minBlockUs: o.minBlock, maxBlockUs: o.maxBlock, state: o.state,
    stackStorageSize: o.stackStorageSize, duration: o.duration, signal: run.signal,
  }, run.source);
  if (!run.json && !o.folded) {
    const who = o.pid !== undefined ? `PID ${o.pid}` : o.tid !== undefined ? `TID ${o.tid}` : o.userThreads ? "user threads" : o.kernelThreads ? "kernel threads" : "all threads";
    const what = o.userOnly ? "user" : o.kernelOnly ? "kernel" : "user + kernel";
    run.out.write(`Tracing off-CPU time (us) of ${who} by ${what} stack${o.duration ? ` for ${o.duration} secs.` : "... Hit Ctrl-C to end."}\n`);
  }
  await printStacks(stream, run, o, "Off-CPU time", "us");
  return 0;
}

export const tool: CliTool = { spec, main };
