// profile: samples stacks at a fixed rate on every CPU (a software cpu-clock perf event per CPU: this runs without
// hardware PMU counters) and counts distinct user + kernel stacks per process; prints them as BCC does at the end,
// folded with -f, and writes a flame graph with --flamegraph. JS frames of node processes come from their perf
// maps (node --perf-basic-prof).
import { BPF, PerfSWConfig, PerfType } from "../index.js";
import { UsageError } from "./lib/errors.js";
import { positiveInt, positiveNumber } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { printStacks, readStackCounts, stackOptions, stackCountMapsC, stackStream, type StackCount } from "./lib/stacks.js";
import { attachToolProgram, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";

const NAME = "profile";
const SOURCES = [{ kind: "perf_event", targets: ["software:cpu-clock"] }] as const;

export interface ProfileOptions extends StreamOptions, TaskFilterOptions {
  /** Only this process. */
  pid?: number;
  /** Only this thread. */
  tid?: number;
  /** Samples per second per CPU (default 49); exclusive with `period`. */
  frequency?: number;
  /** One sample every `period` nanoseconds of CPU clock. */
  period?: number;
  /** Only this CPU. */
  cpu?: number;
  /** Collect user stacks (default true) / kernel stacks (default true). */
  userStacks?: boolean;
  kernelStacks?: boolean;
  /** Include the idle task (pid 0). */
  includeIdle?: boolean;
  stackStorageSize?: number;
  hashStorageSize?: number;
}

function program(o: ProfileOptions): string {
  return `
#include <uapi/linux/bpf_perf_event.h>
${taskFilterC(NAME, o)}
${stackCountMapsC(o.hashStorageSize ?? 40960, o.stackStorageSize ?? 16384)}
int on_cpu_clock(struct bpf_perf_event_data *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (${o.includeIdle ? 0 : 1} && tid == 0) return 0;
    if (${o.pid ?? -1} >= 0 && tgid != ${o.pid ?? 0}) return 0;
    if (${o.tid ?? -1} >= 0 && tid != ${o.tid ?? 0}) return 0;
    if (tsbcc_task_filtered()) return 0;
    struct key_t key = {};
    key.pid = tgid;
    bpf_get_current_comm(&key.name, sizeof(key.name));
    key.user_stack_id = ${o.userStacks === false ? "-1" : "stack_traces.get_stackid(&ctx->regs, BPF_F_USER_STACK)"};
    key.kernel_stack_id = ${o.kernelStacks === false ? "-1" : "stack_traces.get_stackid(&ctx->regs, 0)"};
    counts.increment(key);
    return 0;
}
`;
}

function check(o: ProfileOptions): void {
  const bad = (m: string): never => { throw new UsageError(NAME, m); };
  for (const k of ["pid", "tid", "cpu"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) bad(`${k} must be a non-negative integer, got ${o[k]}`);
  if (o.frequency !== undefined && o.period !== undefined) bad("frequency and period are mutually exclusive");
  if (o.frequency !== undefined && !(Number.isInteger(o.frequency) && o.frequency > 0)) bad(`frequency must be a positive integer, got ${o.frequency}`);
  if (o.period !== undefined && !(Number.isInteger(o.period) && o.period > 0)) bad(`period must be a positive integer, got ${o.period}`);
  if (o.userStacks === false && o.kernelStacks === false) bad("user and kernel stacks are both off: nothing to sample");
}

/** profile as a library: one array of sampled stacks (value = samples) when the stream stops. */
export async function profile(opts: ProfileOptions = {}, chosen?: ChosenSource): Promise<ToolStream<StackCount[]>> {
  check(opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts));
  // The process's stacks must still symbolize if it exits before the end of the run.
  if (opts.pid !== undefined) BPF.rememberProcess(opts.pid);
  const rate = opts.period !== undefined ? { samplePeriod: opts.period } : { sampleFreq: opts.frequency ?? 49 };
  attachToolProgram(NAME, b, (p) => p.attachPerfEvent({
    evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK, fnName: "on_cpu_clock", ...rate,
    // Per CPU, filtered in the program: a per-process perf event would follow only its main thread.
    ...(opts.cpu !== undefined ? { cpu: opts.cpu } : {}),
  }));
  const collect = (): StackCount[] => readStackCounts(b, "counts", "stack_traces", { user: opts.userStacks !== false, kernel: opts.kernelStacks !== false });
  return stackStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Profile CPU usage by sampling stack traces at a timed interval",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "profile process with this PID only" },
    { name: "tid", short: "L", long: "tid", kind: "value", parse: "uint", help: "profile thread with this TID only" },
    ...stackOptions().filter((o) => o.name === "userOnly" || o.name === "kernelOnly"),
    { name: "idle", short: "I", long: "include-idle", kind: "flag", help: "include CPU idle stacks" },
    { name: "frequency", short: "F", long: "frequency", kind: "value", parse: positiveInt, help: "sample frequency in Hertz (default 49)" },
    { name: "period", short: "c", long: "count", kind: "value", parse: positiveInt, help: "sample period, number of events (nanoseconds of CPU clock)" },
    ...stackOptions().filter((o) => o.name === "delimited" || o.name === "folded"),
    { name: "annotations", short: "a", long: "annotations", kind: "flag", help: "add _[k] annotations to kernel frames" },
    { name: "stackStorageSize", long: "stack-storage-size", kind: "value", parse: positiveInt, default: 16384, help: "the number of unique stack traces that can be stored and displayed (default 16384)" },
    { name: "hashStorageSize", long: "hash-storage-size", kind: "value", parse: positiveInt, default: 40960, help: "the number of hash keys that can be stored and displayed (default 40960)" },
    { name: "cpu", short: "C", long: "cpu", kind: "value", parse: "uint", help: "cpu number to run profile on" },
    ...taskFilterOptions(),
    ...stackOptions().filter((o) => o.name === "flamegraph" || o.name === "foldedFile"),
  ],
  positionals: [{ name: "duration", parse: positiveNumber, help: "duration of trace, in seconds" }],
  examples: [
    ["tsbcc profile", "profile stack traces at 49 Hertz until Ctrl-C"],
    ["tsbcc profile -F 99", "profile stack traces at 99 Hertz"],
    ["tsbcc profile -c 1000000", "profile stack traces every 1 in a million events"],
    ["tsbcc profile 5", "profile at 49 Hertz for 5 seconds only"],
    ["tsbcc profile -f 5", "output in folded format for flame graphs"],
    ["tsbcc profile -p 185", "only profile process with PID 185"],
    ["tsbcc profile -L 185", "only profile thread with TID 185"],
    ["tsbcc profile -U", "only show user space stacks (no kernel)"],
    ["tsbcc profile -K", "only show kernel space stacks (no user)"],
    ["tsbcc profile --flamegraph cpu.svg 10", "10 seconds, then write an interactive flame graph"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.userOnly && o.kernelOnly) throw new UsageError(NAME, "argument -K/--kernel-stacks-only: not allowed with argument -U/--user-stacks-only");
  if (o.frequency !== undefined && o.period !== undefined) throw new UsageError(NAME, "argument -c/--count: not allowed with argument -F/--frequency");
  const stream = await profile({
    pid: o.pid, tid: o.tid, frequency: o.frequency, period: o.period, cpu: o.cpu, includeIdle: o.idle,
    userStacks: !o.kernelOnly, kernelStacks: !o.userOnly, stackStorageSize: o.stackStorageSize, hashStorageSize: o.hashStorageSize,
    duration: o.duration, signal: run.signal, ...taskFilterValues(o),
  }, run.source);
  if (!run.json && !o.folded) {
    const rate = o.period !== undefined ? `every ${o.period} events` : `at ${o.frequency ?? 49} Hertz`;
    const who = o.pid !== undefined ? `PID ${o.pid}` : o.tid !== undefined ? `TID ${o.tid}` : "all threads";
    const what = o.userOnly ? "user" : o.kernelOnly ? "kernel" : "user + kernel";
    run.out.write(`Sampling ${rate} of ${who} by ${what} stack${o.cpu !== undefined ? ` on CPU#${o.cpu}` : ""}${o.duration ? ` for ${o.duration} secs.` : "... Hit Ctrl-C to end."}\n`);
  }
  await printStacks(stream, run, o, "CPU profile", "samples");
  return 0;
}

export const tool: CliTool = { spec, main };
