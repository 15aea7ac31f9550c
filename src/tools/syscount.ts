// syscount: syscall counts (and total latency with -L) per syscall or per process (-P), per interval, from the
// raw_syscalls:sys_enter/sys_exit tracepoints; printed as BCC's top-N table, or as IntervalReports with --json.
import { constants } from "node:os";
import { UsageError } from "./lib/errors.js";
import { clock, left, right } from "./lib/format.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { durationOption, positiveInt, positiveNumber, millisecondsOption, pidOption, tidOption, type IntervalOptions } from "./lib/options.js";
import { processComm } from "./lib/procfs.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import { syscallName, syscallNumber, syscallTable } from "./lib/syscall-table.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { ErrorCode, TsbccError } from "../errors.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "syscount";

export interface SyscountOptions extends IntervalOptions {
  pid?: number;
  tid?: number;
  /** Only children of this pid. */
  ppid?: number;
  /** Only failed syscalls (return < 0). */
  failures?: boolean;
  /** Only syscalls failing with this errno. */
  errno?: number;
  /** Also sum the time spent in each syscall. */
  latency?: boolean;
  /** Latency in milliseconds instead of microseconds. */
  milliseconds?: boolean;
  /** Count by process instead of by syscall. */
  byProcess?: boolean;
  /** Only this syscall (number). */
  syscall?: number;
}

const SOURCES = [{ kind: "tracepoint", targets: ["raw_syscalls:sys_enter", "raw_syscalls:sys_exit"] }] as const;

function program(o: SyscountOptions, k: ToolConstants): string {
  return `
#include <linux/sched.h>

${k.u32("FILTER_PID", o.pid ?? 0)}
${k.u32("FILTER_TID", o.tid ?? 0)}
${k.u32("FILTER_PPID", o.ppid ?? 0)}
${k.s64("FILTER_SYSCALL", o.syscall ?? -1)}
#define FILTER_FAILED ${o.failures ? 1 : 0}
${k.s64("FILTER_ERRNO", o.errno ?? 0)}
#define BY_PROCESS ${o.byProcess ? 1 : 0}
#define LATENCY ${o.latency ? 1 : 0}

struct totals_t {
    u64 count;
    u64 total_ns;
};

BPF_HASH(start, u32, u64, 10240);
BPF_HASH(data, u32, struct totals_t, 1024);

static int traced(u64 id) {
    if (FILTER_PID && (id >> 32) != FILTER_PID) return 0;
    if (FILTER_TID && (u32)id != FILTER_TID) return 0;
    if (FILTER_PPID) {
        struct task_struct *task = (struct task_struct *)bpf_get_current_task();
        if (task->real_parent->tgid != FILTER_PPID) return 0;
    }
    return 1;
}

TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    if (!LATENCY) return 0;
    u64 id = bpf_get_current_pid_tgid();
    if (!traced(id)) return 0;
    if (FILTER_SYSCALL >= 0 && args->id != FILTER_SYSCALL) return 0;
    u32 tid = (u32)id;
    u64 now = bpf_ktime_get_ns();
    start.update(&tid, &now);
    return 0;
}

TRACEPOINT_PROBE(raw_syscalls, sys_exit) {
    u64 id = bpf_get_current_pid_tgid();
    if (!traced(id)) return 0;
    long nr = args->id;
    if (nr < 0) return 0;
    if (FILTER_SYSCALL >= 0 && nr != FILTER_SYSCALL) return 0;
    if (FILTER_FAILED && args->ret >= 0) return 0;
    if (FILTER_ERRNO && args->ret != -FILTER_ERRNO) return 0;
    u64 delta = 0;
    if (LATENCY) {
        u32 tid = (u32)id;
        u64 *t0 = start.lookup(&tid);
        if (!t0) return 0;
        delta = bpf_ktime_get_ns() - *t0;
        start.delete(&tid);
    }
    u32 key = BY_PROCESS ? (u32)(id >> 32) : (u32)nr;
    struct totals_t zero = {};
    struct totals_t *v = data.lookup_or_try_init(&key, &zero);
    if (v) {
        __sync_fetch_and_add(&v->count, 1);
        if (LATENCY) __sync_fetch_and_add(&v->total_ns, delta);
    }
    return 0;
}
`;
}

function checkId(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${name} must be a non-negative integer, got ${v}`);
}

/** syscount as a library: one IntervalReport per interval (counter "syscalls", and "syscall_time" with latency). */
export async function syscount(opts: SyscountOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  for (const k of ["pid", "tid", "ppid", "errno", "syscall"] as const) checkId(k, opts[k]);
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count > 0)) throw new UsageError(NAME, `count must be a positive integer, got ${opts.count}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  const data = b.table("data");
  const timeUnit = opts.milliseconds ? "msecs" : "usecs";
  const divisor = opts.milliseconds ? 1e6 : 1e3;
  const collect = (seconds: number): IntervalReport => {
    // Read and deleted entry by entry (atomic in the kernel): a call made between a read and a clear is not lost.
    const entries = data.itemsLookupAndDeleteBatch() as Array<[number, { count: number | bigint; total_ns: number | bigint }]>;
    const labels = (key: number): Record<string, string> =>
      opts.byProcess ? { pid: String(key), comm: processComm(key) } : { syscall: syscallName(key) };
    const counts: CounterMetric = {
      kind: "counter", name: "syscalls", unit: "calls", help: opts.byProcess ? "syscalls per process" : "calls per syscall",
      series: entries.map(([k, v]) => ({ labels: labels(k), value: toNumber(v.count) })),
    };
    const metrics = [counts];
    if (opts.latency) {
      metrics.push({
        kind: "counter", name: "syscall_time", unit: timeUnit, help: "total time spent in the syscalls",
        series: entries.map(([k, v]) => ({ labels: labels(k), value: toNumber(v.total_ns) / divisor })),
      });
    }
    return report(NAME, seconds, metrics);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

function parseErrno(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  const n = (constants.errno as Record<string, number>)[s.toUpperCase()];
  if (n === undefined) throw new TsbccError(ErrorCode.USAGE, `unknown errno '${s}'`);
  return n;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize syscall counts and latencies.",
  json: "interval",
  sources: SOURCES,
  options: [
    pidOption("trace only this pid"),
    tidOption("trace only this tid"),
    { name: "ppid", short: "c", long: "ppid", kind: "value", parse: "uint", help: "trace only child of this pid" },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, help: "print summary at this interval (seconds)" },
    durationOption(),
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, default: 10, help: "print only the top syscalls by count or latency" },
    { name: "failures", short: "x", long: "failures", kind: "flag", help: "trace only failed syscalls (return < 0)" },
    { name: "errno", short: "e", long: "errno", kind: "value", parse: parseErrno, help: "trace only syscalls that return this error (numeric or EPERM, etc.)" },
    { name: "latency", short: "L", long: "latency", kind: "flag", help: "collect syscall latency" },
    millisecondsOption("display latency in milliseconds (default: microseconds)"),
    { name: "process", short: "P", long: "process", kind: "flag", help: "count by process and not by syscall" },
    { name: "list", short: "l", long: "list", kind: "flag", help: "print list of recognized syscalls and exit" },
    { name: "syscall", long: "syscall", kind: "value", parse: syscallNumber, help: "trace this syscall only (use option -l to get all recognized syscalls)" },
  ],
  examples: [
    ["tsbcc syscount", "count syscalls, print the top 10 at Ctrl-C"],
    ["tsbcc syscount -p 181", "only this process"],
    ["tsbcc syscount -L -i 1", "with latencies, every second"],
    ["tsbcc syscount -P -d 5", "per process, for 5 seconds"],
    ["tsbcc syscount -x -e ENOENT", "only syscalls failing with ENOENT"],
    ["tsbcc syscount --syscall getppid", "only getppid"],
    ["tsbcc syscount -i 1 --json", "one JSON interval report per second"],
  ],
};

function printTable(r: IntervalReport, o: Record<string, any>, run: ToolRun): void {
  const [counts, times] = r.metrics as CounterMetric[];
  const key = (labels: Record<string, string>): string => (o.process ? `${left(labels.pid, 6)} ${left(labels.comm, 15)}` : labels.syscall);
  run.out.write(`[${clock()}]\n`);
  const col = o.process ? "PID    COMM" : "SYSCALL";
  if (times) {
    run.out.write(`${left(col, 22)} ${right("COUNT", 8)} ${right(o.milliseconds ? "TIME (ms)" : "TIME (us)", 16)}\n`);
    const rows = counts.series.map((s, i) => ({ s, t: times.series[i].value })).sort((a, b) => b.t - a.t).slice(0, o.top);
    for (const { s, t } of rows) run.out.write(`${left(key(s.labels), 22)} ${right(s.value, 8)} ${right(t.toFixed(3), 16)}\n`);
  } else {
    run.out.write(`${left(col, 22)} ${right("COUNT", 8)}\n`);
    for (const s of [...counts.series].sort((a, b) => b.value - a.value).slice(0, o.top)) {
      run.out.write(`${left(key(s.labels), 22)} ${right(s.value, 8)}\n`);
    }
  }
  run.out.write("\n");
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.list) {
    const names = [...syscallTable().values()];
    if (names.length === 0) throw new TsbccError(ErrorCode.UNSUPPORTED, "no syscall table found (install the kernel uapi headers: linux-libc-dev)");
    run.out.write(names.map((n) => `    ${n}`).join("\n") + "\n");
    return 0;
  }
  const interval = o.interval ?? o.duration;
  const stream = await syscount({
    pid: o.pid, tid: o.tid, ppid: o.ppid, failures: o.failures, errno: o.errno, latency: o.latency, milliseconds: o.milliseconds,
    byProcess: o.process, syscall: o.syscall, interval, duration: o.duration, signal: run.signal,
  }, run.source);
  if (!run.json) run.out.write(`Tracing ${o.failures ? "failed " : ""}syscalls, printing top ${o.top}... Ctrl+C to quit.\n`);
  for await (const r of stream) {
    if (run.json) run.emit(r);
    else printTable(r, o, run);
  }
  if (!run.json) run.out.write("Detaching...\n");
  return 0;
}

export const tool: CliTool = { spec, main };
