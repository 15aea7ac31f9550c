// filetop: reads and writes per thread and file, top-style, every interval. Its best source is fentry (then
// kprobes) on vfs_read/vfs_write, which hand over the struct file; where neither works it uses the read/write
// (and pread64/pwrite64) syscall tracepoints and finds the struct file from the fd in the task's file table.
// Both count the bytes asked for at entry, as BCC does. Reported as IntervalReports (one counter per column,
// labelled by tid, comm, file and type), printed as BCC's table.
import { left } from "./lib/format.js";
import { fnProbeText, isFnKind, type FnProbe } from "./lib/fn-probes.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, pidOption, positiveInt, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { intervalStream, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, loadSourceProgram, runTop, writeTopHeader } from "./lib/top.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { FD_FILE_C, FILE_TYPE_C } from "./lib/vfs-c.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "filetop";
/** The kernel keeps names up to this length inline in the dentry; BCC marks longer ones with "...". */
const DNAME_INLINE_LEN = 32;

export interface FiletopOptions extends IntervalOptions {
  pid?: number;
  /** Include non-regular files (sockets, FIFOs, devices). */
  allFiles?: boolean;
}

/** One row: a thread's I/O on one file during the interval. */
export interface FileIoRow {
  tid: number;
  comm: string;
  file: string;
  /** R regular, S socket, O other. */
  type: string;
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
}

const SOURCES: readonly SourceCandidate[] = [
  { kind: "fentry", targets: ["vfs_read", "vfs_write"] },
  { kind: "kprobe", targets: ["vfs_read", "vfs_write"] },
  { kind: "tracepoint", targets: ["syscalls:sys_enter_read", "syscalls:sys_enter_write", "syscalls:sys_enter_pread64?", "syscalls:sys_enter_pwrite64?"] },
];

function fnProbes(source: ChosenSource): FnProbe[] {
  return source.targets.map((fn) => {
    const isRead = fn.startsWith("vfs_read");
    return { fn, name: isRead ? "on_vfs_read" : "on_vfs_write", args: "struct file *file, char *buf, size_t count", body: `    return account(file, count, ${isRead ? 1 : 0});` };
  });
}

function program(o: FiletopOptions, source: ChosenSource, k: ToolConstants): string {
  const probes = isFnKind(source.kind)
    ? fnProbes(source).map((p) => fnProbeText(source.kind as "fentry" | "kprobe", p)).join("\n")
    : source.targets.map((t) => {
      const event = t.split(":")[1];
      return `TRACEPOINT_PROBE(syscalls, ${event}) {\n    return account(fd_file(args->fd), args->count, ${/read/.test(event) ? 1 : 0});\n}\n`;
    }).join("\n");
  return `
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
${k.u32("FILTER_PID", o.pid ?? 0)}
#define ALL_FILES ${o.allFiles ? 1 : 0}

struct file_key_t {
    u32 tid;
    u32 name_len;
    char comm[TASK_COMM_LEN];
    char name[${DNAME_INLINE_LEN}];
    char type;
};

struct file_io_t {
    u64 reads;
    u64 writes;
    u64 rbytes;
    u64 wbytes;
};

BPF_HASH(counts, struct file_key_t, struct file_io_t, 10240);
${FD_FILE_C}
${FILE_TYPE_C}
static int account(struct file *file, u64 bytes, int is_read) {
    if (!file) return 0;
    u64 id = bpf_get_current_pid_tgid();
    if (FILTER_PID && (id >> 32) != FILTER_PID) return 0;
    char type = file_type(file);
    if (!ALL_FILES && type != 'R') return 0;
    struct dentry *de = file->f_path.dentry;
    u32 len = de->d_name.len;
    if (len == 0) return 0;
    struct file_key_t key = {};
    key.tid = (u32)id;
    key.name_len = len;
    key.type = type;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    bpf_probe_read_kernel(&key.name, sizeof(key.name), de->d_name.name);
    struct file_io_t zero = {};
    struct file_io_t *v = counts.lookup_or_try_init(&key, &zero);
    if (!v) return 0;
    if (is_read) {
        __sync_fetch_and_add(&v->reads, 1);
        __sync_fetch_and_add(&v->rbytes, bytes);
    } else {
        __sync_fetch_and_add(&v->writes, 1);
        __sync_fetch_and_add(&v->wbytes, bytes);
    }
    return 0;
}

${probes}
`;
}

interface RawKey { tid: number; name_len: number; comm: string; name: string | Uint8Array; type: number | string }
interface RawIo { reads: number | bigint; writes: number | bigint; rbytes: number | bigint; wbytes: number | bigint }

function text(v: string | Uint8Array): string {
  if (typeof v === "string") return v;
  const end = v.indexOf(0);
  return Buffer.from(end < 0 ? v : v.subarray(0, end)).toString("utf8");
}

function rowOf(k: RawKey, v: RawIo): FileIoRow {
  let file = text(k.name).slice(0, DNAME_INLINE_LEN);
  if (k.name_len > DNAME_INLINE_LEN) file = `${file.slice(0, -3)}...`;
  const type = typeof k.type === "number" ? String.fromCharCode(k.type) : k.type;
  return { tid: k.tid, comm: k.comm, file, type, reads: toNumber(v.reads), writes: toNumber(v.writes), readBytes: toNumber(v.rbytes), writeBytes: toNumber(v.wbytes) };
}

const COLUMNS = [
  ["reads", "file_reads", "calls", "read calls"], ["writes", "file_writes", "calls", "write calls"],
  ["readBytes", "file_read_bytes", "bytes", "bytes read (asked for)"], ["writeBytes", "file_write_bytes", "bytes", "bytes written (asked for)"],
] as const;

/** The rows of a filetop IntervalReport (its four counters joined by labels). */
export function filetopRows(r: IntervalReport): FileIoRow[] {
  const [reads, ...rest] = r.metrics as CounterMetric[];
  return reads.series.map((s, i) => {
    const l = s.labels;
    return { tid: Number(l.tid), comm: l.comm, file: l.file, type: l.type, reads: s.value, writes: rest[0].series[i].value, readBytes: rest[1].series[i].value, writeBytes: rest[2].series[i].value };
  });
}

/** filetop as a library: one IntervalReport per interval, counters file_reads/file_writes/file_read_bytes/file_write_bytes. */
export async function filetop(opts: FiletopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadSourceProgram(NAME, (k) => program(opts, source, k), source, () => fnProbes(source));
  const counts = b.table("counts");
  const collect = (seconds: number): IntervalReport => {
    const rows = ([...counts] as Array<[RawKey, RawIo]>).map(([k, v]) => rowOf(k, v));
    counts.clear();
    const metrics: CounterMetric[] = COLUMNS.map(([field, name, unit, help]) => ({
      kind: "counter", name, unit, help,
      series: rows.map((r) => ({ labels: { tid: String(r.tid), comm: r.comm, file: r.file, type: r.type }, value: r[field] })),
    }));
    return report(NAME, seconds, metrics);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

const SORTS = ["all", "reads", "writes", "rbytes", "wbytes"] as const;

export const spec: ToolSpec = {
  name: NAME,
  description: "File reads and writes by process",
  json: "interval",
  sources: SOURCES,
  options: [
    { name: "allFiles", short: "a", long: "all-files", kind: "flag", help: "include non-regular file types (sockets, FIFOs, etc)" },
    { name: "noclear", short: "C", long: "noclear", kind: "flag", help: "don't clear the screen" },
    { name: "maxrows", short: "r", long: "maxrows", kind: "value", parse: positiveInt, default: 20, help: "maximum rows to print, default 20" },
    { name: "sort", short: "s", long: "sort", kind: "value", choices: SORTS, default: "all", help: "sort column, default all" },
    pidOption(),
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc filetop", "file I/O top, 1 second refresh"],
    ["tsbcc filetop -C", "don't clear the screen"],
    ["tsbcc filetop -p 181", "PID 181 only"],
    ["tsbcc filetop 5", "5 second summaries"],
    ["tsbcc filetop 5 10", "5 second summaries, 10 times only"],
    ["tsbcc filetop -C --json 1 3", "three JSON interval reports"],
  ],
};

function sortKey(r: FileIoRow, by: string): number {
  switch (by) {
    case "reads": return r.reads;
    case "writes": return r.writes;
    case "rbytes": return r.readBytes;
    case "wbytes": return r.writeBytes;
    default: return r.reads + r.writes + r.readBytes + r.writeBytes;
  }
}

function printTop(r: IntervalReport, o: Record<string, any>, run: ToolRun): void {
  writeTopHeader(run, o.noclear);
  run.out.write(`${left("TID", 7)} ${left("COMM", 16)} ${left("READS", 6)} ${left("WRITES", 6)} ${left("R_Kb", 7)} ${left("W_Kb", 7)} T FILE\n`);
  const rows = filetopRows(r).sort((a, b) => sortKey(b, o.sort) - sortKey(a, o.sort)).slice(0, o.maxrows);
  for (const x of rows) {
    run.out.write(`${left(x.tid, 7)} ${left(x.comm, 16)} ${left(x.reads, 6)} ${left(x.writes, 6)} ${left(Math.trunc(x.readBytes / 1024), 7)} ` +
      `${left(Math.trunc(x.writeBytes / 1024), 7)} ${x.type} ${x.file}\n`);
  }
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const interval = o.interval ?? 1;
  const stream = await filetop({ pid: o.pid, allFiles: o.allFiles, interval, count: o.count, signal: run.signal }, run.source);
  return runTop(stream, run, interval, (r) => printTop(r, o, run));
}

export const tool: CliTool = { spec, main };
