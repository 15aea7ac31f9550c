// The shape shared by ext4slower, xfsslower and btrfsslower: reads, writes, opens and fsyncs of one filesystem
// slower than a threshold, one line each. Best source: fentry (then kprobes) on the filesystem's own file
// operations (entry and return, looked up in the running kernel); fallback: the read/write/pread64/pwrite64/
// openat/fsync/fdatasync syscall tracepoints, keeping only files on that filesystem (fd -> struct file ->
// inode -> super block -> file_system_type name, from BTF types). The fallback times the whole syscall.
import { UsageError } from "./errors.js";
import { clock, left, right } from "./format.js";
import { fnProbeText, isFnKind, type FnProbe } from "./fn-probes.js";
import { pidOption } from "./options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./source.js";
import { eventStream, type StreamOptions, type ToolStream } from "./stream.js";
import { checkIntervalOptions, loadSourceProgram } from "./top.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./tool.js";
import { FD_FILE_C, fileOnFsC } from "./vfs-c.js";
import type { ToolConstants } from "./constants.js";

export interface FsSlowerConfig {
  /** Tool name, "ext4slower". */
  tool: string;
  /** file_system_type name, "ext4". */
  fs: string;
  /** The filesystem's file operations: read_iter, write_iter, open, fsync (alternatives "a|b" allowed). */
  read: string;
  write: string;
  open: string;
  fsync: string;
}

export type FsOpType = "R" | "W" | "O" | "S";
const TYPES: FsOpType[] = ["R", "W", "O", "S"];

export interface FsSlowEvent {
  /** End of the operation, microseconds since boot. */
  endUs: number;
  pid: number;
  comm: string;
  /** R read, W write, O open, S fsync. */
  type: FsOpType;
  /** Bytes read or written (0 for open and fsync). */
  bytes: number;
  /** File offset in bytes at the start of a read or write. */
  offset: number;
  latencyUs: number;
  file: string;
}

export interface FsSlowerOptions extends StreamOptions {
  pid?: number;
  /** Only operations at least this slow, in milliseconds (0: all). Default 10. */
  minMs?: number;
}

export function fsSlowerSources(c: FsSlowerConfig): SourceCandidate[] {
  const fns = [c.read, c.write, c.open, c.fsync];
  return [
    { kind: "fentry", targets: fns },
    { kind: "kprobe", targets: fns },
    {
      kind: "tracepoint",
      targets: ["read", "write", "pread64", "pwrite64", "openat", "fsync", "fdatasync"].flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]),
    },
  ];
}

function fnProbes(source: ChosenSource): FnProbe[] {
  const [read, write, open, fsync] = source.targets;
  const iter = "struct kiocb *iocb";
  const out: FnProbe[] = [
    { fn: read, name: "on_read", args: iter, body: "    return enter(iocb->ki_filp, iocb->ki_pos, 0);" },
    { fn: write, name: "on_write", args: iter, body: "    return enter(iocb->ki_filp, iocb->ki_pos, 1);" },
    { fn: open, name: "on_open", args: "struct inode *inode, struct file *file", body: "    return enter(file, 0, 2);" },
    { fn: fsync, name: "on_fsync", args: "struct file *file", body: "    return enter(file, 0, 3);" },
  ];
  return [...out, ...out.map((p) => ({ fn: p.fn, name: `${p.name}_return`, ret: true, body: "    return leave(ctx, ret);" }))];
}

function tracepointProbes(): string {
  const enter = (s: string, call: string): string => `TRACEPOINT_PROBE(syscalls, sys_enter_${s}) {\n    return ${call};\n}\n`;
  const leave = (s: string): string => `TRACEPOINT_PROBE(syscalls, sys_exit_${s}) {\n    return leave(args, args->ret);\n}\n`;
  return [
    enter("read", "enter_fd(args->fd, -1, 0)"), enter("write", "enter_fd(args->fd, -1, 1)"),
    enter("pread64", "enter_fd(args->fd, args->pos, 0)"), enter("pwrite64", "enter_fd(args->fd, args->pos, 1)"),
    enter("fsync", "enter_fd(args->fd, 0, 3)"), enter("fdatasync", "enter_fd(args->fd, 0, 3)"),
    enter("openat", "enter_open()"),
    ...["read", "write", "pread64", "pwrite64", "fsync", "fdatasync"].map(leave),
    "TRACEPOINT_PROBE(syscalls, sys_exit_openat) {\n    return leave_open(args, args->ret);\n}\n",
  ].join("\n");
}

function program(c: FsSlowerConfig, o: FsSlowerOptions, source: ChosenSource, k: ToolConstants): string {
  const fn = isFnKind(source.kind);
  const probes = fn ? fnProbes(source).map((p) => fnProbeText(source.kind as "fentry" | "kprobe", p)).join("\n") : tracepointProbes();
  return `
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/dcache.h>
${k.u32("FILTER_PID", o.pid ?? 0)}
${k.u64("MIN_US", Math.round((o.minMs ?? 10) * 1000))}
#define OP_OPEN 2

struct op_start_t {
    u64 ts;
    u64 offset;
    struct file *fp;
    u32 type;
    u32 pad;
};

struct slow_event_t {
    u64 end_us;
    u64 type;
    u64 size;
    u64 offset;
    u64 delta_us;
    u32 pid;
    u32 pad;
    char comm[TASK_COMM_LEN];
    char file[32];
};

BPF_HASH(started, u64, struct op_start_t, 10240);
BPF_PERF_OUTPUT(events);
${fn ? "" : FD_FILE_C + fileOnFsC(c.fs)}

static int enter(struct file *fp, u64 offset, u32 type) {
    u64 id = bpf_get_current_pid_tgid();
    if (FILTER_PID && (id >> 32) != FILTER_PID) return 0;
    struct op_start_t s = {};
    s.ts = bpf_ktime_get_ns();
    s.offset = offset;
    s.fp = fp;
    s.type = type;
    started.update(&id, &s);
    return 0;
}

static int emit(void *ctx, struct op_start_t *s, struct file *fp, long ret) {
    u64 now = bpf_ktime_get_ns();
    u64 delta_us = (now - s->ts) / 1000;
    if (delta_us < MIN_US) return 0;
    struct slow_event_t ev = {};
    ev.end_us = now / 1000;
    ev.type = s->type;
    ev.size = (s->type < OP_OPEN && ret > 0) ? ret : 0;
    ev.offset = s->offset;
    ev.delta_us = delta_us;
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    // fp came through a map: read explicitly (fentry programs get no automatic probe reads).
    struct dentry *de = NULL;
    bpf_probe_read_kernel(&de, sizeof(de), &fp->f_path.dentry);
    const unsigned char *name = NULL;
    if (de) bpf_probe_read_kernel(&name, sizeof(name), &de->d_name.name);
    if (name) bpf_probe_read_kernel_str(&ev.file, sizeof(ev.file), name);
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}

static int leave(void *ctx, long ret) {
    u64 id = bpf_get_current_pid_tgid();
    struct op_start_t *s = started.lookup(&id);
    if (!s) return 0;
    struct op_start_t copy = *s;
    started.delete(&id);
    if (!copy.fp) return 0;
    return emit(ctx, &copy, copy.fp, ret);
}
${fn ? "" : `
static int enter_fd(long fd, s64 pos, u32 type) {
    struct file *f = fd_file(fd);
    if (!f || !file_on_fs(f)) return 0;
    return enter(f, pos >= 0 ? (u64)pos : (u64)f->f_pos, type);
}

static int enter_open(void) {
    return enter(NULL, 0, OP_OPEN);
}

static int leave_open(void *ctx, long fd) {
    u64 id = bpf_get_current_pid_tgid();
    struct op_start_t *s = started.lookup(&id);
    if (!s) return 0;
    struct op_start_t copy = *s;
    started.delete(&id);
    struct file *f = fd_file(fd);
    if (!f || !file_on_fs(f)) return 0;
    return emit(ctx, &copy, f, 0);
}`}
${probes}
`;
}

interface RawSlow { end_us: bigint; type: bigint; size: bigint; offset: bigint; delta_us: bigint; pid: number; comm: string; file: string }

/** The library function of an fs-slower tool. */
export async function fsSlower(c: FsSlowerConfig, opts: FsSlowerOptions = {}, chosen?: ChosenSource): Promise<ToolStream<FsSlowEvent>> {
  checkIntervalOptions(c.tool, opts);
  if (opts.minMs !== undefined && !(Number.isFinite(opts.minMs) && opts.minMs >= 0)) throw new UsageError(c.tool, `minMs must be a non-negative number, got ${opts.minMs}`);
  const source = chosen ?? chooseSource(c.tool, fsSlowerSources(c), opts.source);
  const b = await loadSourceProgram(c.tool, (k) => program(c, opts, source, k), source, () => fnProbes(source));
  return eventStream<RawSlow, FsSlowEvent>(b, "events", source, { ...opts, pageCnt: 64 }, (r) => ({
    endUs: Number(r.end_us), pid: r.pid, comm: r.comm, type: TYPES[Number(r.type)] ?? "R", bytes: Number(r.size), offset: Number(r.offset),
    latencyUs: Number(r.delta_us), file: r.file,
  }));
}

/** The CLI side of an fs-slower tool: BCC's flags (-j, -p, min_ms), header, columns and CSV. */
export function fsSlowerTool(c: FsSlowerConfig): CliTool {
  const spec: ToolSpec = {
    name: c.tool,
    description: `Trace common ${c.fs} file operations slower than a threshold`,
    json: "event",
    sources: fsSlowerSources(c),
    options: [
      { name: "csv", short: "j", long: "csv", kind: "flag", help: "just print fields: comma-separated values" },
      pidOption(),
    ],
    positionals: [{ name: "minMs", parse: "uint", help: "minimum I/O duration to trace, in ms (default 10)" }],
    examples: [
      [`tsbcc ${c.tool}`, "trace operations slower than 10 ms (default)"],
      [`tsbcc ${c.tool} 1`, "trace operations slower than 1 ms"],
      [`tsbcc ${c.tool} -j 1`, "... 1 ms, parsable output (csv)"],
      [`tsbcc ${c.tool} 0`, "trace all operations (warning: verbose)"],
      [`tsbcc ${c.tool} -p 185`, "trace PID 185 only"],
      [`tsbcc ${c.tool} -v --source tracepoint 0`, "time the syscalls on this filesystem's files instead"],
    ],
  };
  const main = async (o: Record<string, any>, run: ToolRun): Promise<number> => {
    const minMs = o.minMs ?? 10;
    const stream = await fsSlower(c, { pid: o.pid, minMs, signal: run.signal }, run.source);
    if (!run.json) {
      if (o.csv) run.out.write("ENDTIME_us,TASK,PID,TYPE,BYTES,OFFSET_b,LATENCY_us,FILE\n");
      else {
        run.out.write(minMs === 0 ? `Tracing ${c.fs} operations\n` : `Tracing ${c.fs} operations slower than ${minMs} ms\n`);
        run.out.write(`${left("TIME", 8)} ${left("COMM", 14)} ${left("PID", 6)} T ${left("BYTES", 7)} ${left("OFF_KB", 8)} ${right("LAT(ms)", 7)} FILENAME\n`);
      }
    }
    return printEvents(stream, run, (ev) => o.csv
      ? `${ev.endUs},${ev.comm},${ev.pid},${ev.type},${ev.bytes},${ev.offset},${ev.latencyUs},${ev.file}\n`
      : `${left(clock(), 8)} ${left(ev.comm.slice(0, 14), 14)} ${left(ev.pid, 6)} ${ev.type} ${left(ev.bytes, 7)} ${left(Math.trunc(ev.offset / 1024), 8)} ` +
        `${right((ev.latencyUs / 1000).toFixed(2), 7)} ${ev.file}\n`);
  };
  return { spec, main };
}
