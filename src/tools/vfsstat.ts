// vfsstat: counts of VFS reads, writes, fsyncs, opens and creates per second. Its best source is fentry (then
// kprobes) on vfs_read/vfs_write/vfs_fsync_range/vfs_open/vfs_create, looked up in the running kernel; where
// neither works (no kprobes, fentry refused) it counts the syscalls that lead there, from the syscalls
// tracepoints: the read and write families, fsync/fdatasync, open/openat/openat2, and mknod(at) of regular files
// (what reaches vfs_create from user space; open(O_CREAT) creates through the filesystem's own create).
import { clock, left, right } from "./lib/format.js";
import { fnProbeText, isFnKind, type FnProbe } from "./lib/fn-probes.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, pidOption, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { intervalStream, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, loadSourceProgram } from "./lib/top.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "vfsstat";

/** The columns, in BCC's order. */
export const VFS_OPS = ["read", "write", "fsync", "open", "create"] as const;
export type VfsOp = (typeof VFS_OPS)[number];

export interface VfsstatOptions extends IntervalOptions {
  pid?: number;
}

const FUNCTIONS = ["vfs_read", "vfs_write", "vfs_fsync_range", "vfs_open", "vfs_create"];
const FN_OP: Record<string, VfsOp> = { vfs_read: "read", vfs_write: "write", vfs_fsync_range: "fsync", vfs_open: "open", vfs_create: "create" };

/** Syscall tracepoints and the VFS operation each one leads to. */
const SYSCALL_OP: Record<string, VfsOp> = {
  read: "read", pread64: "read", readv: "read", preadv: "read", preadv2: "read",
  write: "write", pwrite64: "write", writev: "write", pwritev: "write", pwritev2: "write",
  fsync: "fsync", fdatasync: "fsync",
  open: "open", openat: "open", openat2: "open",
  mknod: "create", mknodat: "create",
};
const REQUIRED_SYSCALLS = new Set(["read", "write", "fsync", "openat"]);

const SOURCES: readonly SourceCandidate[] = [
  { kind: "fentry", targets: FUNCTIONS },
  { kind: "kprobe", targets: FUNCTIONS },
  { kind: "tracepoint", targets: Object.keys(SYSCALL_OP).map((s) => `syscalls:sys_enter_${s}${REQUIRED_SYSCALLS.has(s) ? "" : "?"}`) },
];

function baseName(fn: string): string {
  return fn.replace(/\..*$/, "");
}

function fnProbes(source: ChosenSource): FnProbe[] {
  return source.targets.map((fn) => ({ fn, name: `on_${baseName(fn)}`, body: `    return count_op(${VFS_OPS.indexOf(FN_OP[baseName(fn)])});` }));
}

function program(o: VfsstatOptions, source: ChosenSource, k: ToolConstants): string {
  let probes: string;
  if (isFnKind(source.kind)) {
    probes = fnProbes(source).map((p) => fnProbeText(source.kind as "fentry" | "kprobe", p)).join("\n");
  } else {
    probes = source.targets.map((t) => {
      const event = t.split(":")[1];
      const op = SYSCALL_OP[event.replace(/^sys_enter_/, "")];
      // mknod creates through vfs_create only for regular files (mode S_IFREG, or 0 meaning the same).
      const filter = op === "create" ? "    if ((args->mode & S_IFMT) != S_IFREG && (args->mode & S_IFMT) != 0) return 0;\n" : "";
      return `TRACEPOINT_PROBE(syscalls, ${event}) {\n${filter}    return count_op(${VFS_OPS.indexOf(op)});\n}\n`;
    }).join("\n");
  }
  return `
#include <uapi/linux/ptrace.h>
#include <uapi/linux/stat.h>
${k.u32("FILTER_PID", o.pid ?? 0)}

BPF_ARRAY(stats, u64, ${VFS_OPS.length});

static int count_op(int op) {
    if (FILTER_PID && (bpf_get_current_pid_tgid() >> 32) != FILTER_PID) return 0;
    stats.atomic_increment(op);
    return 0;
}

${probes}
`;
}

/** vfsstat as a library: one IntervalReport per interval, counter "vfs_calls" labelled by `op` (read, write, ...). */
export async function vfsstat(opts: VfsstatOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadSourceProgram(NAME, (k) => program(opts, source, k), source, () => fnProbes(source));
  const stats = b.table("stats");
  const collect = (seconds: number): IntervalReport => {
    const values = VFS_OPS.map((_, i) => toNumber((stats.get(i) as number | bigint | undefined) ?? 0));
    stats.clear();
    const counter: CounterMetric = {
      kind: "counter", name: "vfs_calls", unit: "calls", help: "VFS calls by operation",
      series: VFS_OPS.map((op, i) => ({ labels: { op }, value: values[i] })),
    };
    return report(NAME, seconds, [counter]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Count some VFS calls.",
  json: "interval",
  sources: SOURCES,
  options: [pidOption()],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc vfsstat", "count some VFS calls per second"],
    ["tsbcc vfsstat -p 185", "trace PID 185 only"],
    ["tsbcc vfsstat 2 5", "print 2 second summaries, 5 times"],
    ["tsbcc vfsstat -v --source tracepoint", "count from the syscall tracepoints, saying so"],
    ["tsbcc vfsstat --json 1 3", "three JSON interval reports"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const interval = o.interval ?? 1;
  const stream = await vfsstat({ pid: o.pid, interval, count: o.count, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`${left("TIME", 8)}  ${VFS_OPS.map((op) => ` ${right(`${op.toUpperCase()}/s`, 8)}`).join("")}\n`);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    const series = (r.metrics[0] as CounterMetric).series;
    run.out.write(`${left(clock(), 8)}: ${series.map((s) => ` ${right(Math.trunc(s.value / interval), 8)}`).join("")}\n`);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
