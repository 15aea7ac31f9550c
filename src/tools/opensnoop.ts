// opensnoop: one line per open()/openat()/openat2(), with the fd or errno, like BCC's tool. Events come from the
// syscall tracepoints (the enter event keeps the arguments per thread, the exit event reads the path and reports).
import { OpenFlags } from "../sys/abi.js";
import { UsageError } from "./lib/errors.js";
import { left, right } from "./lib/format.js";
import { bufferPagesOption, durationOption, pidOption, tidOption, uidOption } from "./lib/options.js";
import { chooseSource, sourceHas, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "opensnoop";
const PATH_MAX_SHOWN = 255;

/** One open: who, which path, with which flags, and the result (fd, or -1 with errno). */
export interface OpenEvent {
  /** Kernel monotonic time of the return, nanoseconds. */
  ts: bigint;
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  /** The returned fd, or -1 when the open failed. */
  fd: number;
  /** 0, or the errno of a failed open. */
  errno: number;
  flags: number;
  path: string;
}

export interface OpensnoopOptions extends StreamOptions {
  pid?: number;
  tid?: number;
  uid?: number;
  /** Only opens whose flags have any of these bits (BCC's -f). */
  flagFilter?: number;
  /** Only failed opens. */
  failed?: boolean;
  /** Only processes whose name contains this. */
  name?: string;
  bufferPages?: number;
}

const SOURCES = [{
  kind: "tracepoint",
  targets: ["syscalls:sys_enter_openat", "syscalls:sys_exit_openat", "syscalls:sys_enter_open?", "syscalls:sys_exit_open?",
    "syscalls:sys_enter_openat2?", "syscalls:sys_exit_openat2?"],
}] as const;

function program(o: OpensnoopOptions, source: ChosenSource): string {
  const probe = (sys: string, flagsExpr: string): string => !sourceHas(source, `syscalls:sys_enter_${sys}`) ? "" : `
TRACEPOINT_PROBE(syscalls, sys_enter_${sys}) {
    return remember(${flagsExpr}, args->filename);
}
TRACEPOINT_PROBE(syscalls, sys_exit_${sys}) {
    return report(args, args->ret);
}`;
  return `
#include <linux/sched.h>

#define FILTER_PID ${o.pid ?? 0}
#define FILTER_TID ${o.tid ?? 0}
#define FILTER_UID ${o.uid ?? -1}
#define FILTER_FLAGS ${o.flagFilter ?? 0}
#define NAME_MAX_SHOWN ${PATH_MAX_SHOWN + 1}

struct pending_t {
    const char *fname;
    int flags;
};

struct open_event_t {
    u64 ts;
    u32 pid;
    u32 tid;
    u32 uid;
    int ret;
    int flags;
    char comm[TASK_COMM_LEN];
    char path[NAME_MAX_SHOWN];
};

BPF_HASH(pending, u32, struct pending_t, 10240);
BPF_PERCPU_ARRAY(scratch, struct open_event_t, 1);
BPF_PERF_OUTPUT(events);

static int remember(int flags, const char *fname) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (FILTER_TID && tid != FILTER_TID) return 0;
    if (FILTER_UID >= 0 && (u32)bpf_get_current_uid_gid() != (u32)FILTER_UID) return 0;
    if (FILTER_FLAGS && !(flags & FILTER_FLAGS)) return 0;
    struct pending_t p = {};
    p.fname = fname;
    p.flags = flags;
    pending.update(&tid, &p);
    return 0;
}

static int report(void *ctx, long ret) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct pending_t *p = pending.lookup(&tid);
    if (!p) return 0;
    int zero = 0;
    struct open_event_t *ev = scratch.lookup(&zero);
    if (!ev) { pending.delete(&tid); return 0; }
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = tid;
    ev->uid = bpf_get_current_uid_gid();
    ev->ret = ret;
    ev->flags = p->flags;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    bpf_probe_read_user_str(&ev->path, sizeof(ev->path), p->fname);
    events.perf_submit(ctx, ev, sizeof(*ev));
    pending.delete(&tid);
    return 0;
}
${probe("openat", "args->flags")}
${probe("open", "args->flags")}
${sourceHas(source, "syscalls:sys_enter_openat2") ? `
TRACEPOINT_PROBE(syscalls, sys_enter_openat2) {
    u64 flags = 0;
    bpf_probe_read_user(&flags, sizeof(flags), &args->how->flags);
    return remember((int)flags, args->filename);
}
TRACEPOINT_PROBE(syscalls, sys_exit_openat2) {
    return report(args, args->ret);
}` : ""}
`;
}

interface RawOpen { ts: bigint; pid: number; tid: number; uid: number; ret: number; flags: number; comm: string; path: string }

/** opensnoop as a library: one OpenEvent per open. */
export async function opensnoop(opts: OpensnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<OpenEvent>> {
  for (const k of ["pid", "tid", "uid", "flagFilter"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${v}`);
  }
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts, source));
  return eventStream<RawOpen, OpenEvent>(b, "events", source, { ...opts, pageCnt: opts.bufferPages }, (r) => {
    const failed = r.ret < 0;
    if (opts.failed && !failed) return undefined;
    if (opts.name && !r.comm.includes(opts.name)) return undefined;
    return { ts: r.ts, pid: r.pid, tid: r.tid, uid: r.uid, comm: r.comm, fd: failed ? -1 : r.ret, errno: failed ? -r.ret : 0, flags: r.flags, path: r.path };
  });
}

function parseFlag(s: string): number {
  const v = (OpenFlags as Record<string, number>)[s.toUpperCase()];
  if (v === undefined) throw new Error(`unknown open flag '${s}' (e.g. O_WRONLY, O_RDWR, O_CREAT)`);
  return v;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace open() syscalls",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "include timestamp on output" },
    { name: "printUid", short: "U", long: "print-uid", kind: "flag", help: "print UID column" },
    { name: "failed", short: "x", long: "failed", kind: "flag", help: "only show failed opens" },
    pidOption(), tidOption(), uidOption(), durationOption(),
    { name: "name", short: "n", long: "name", kind: "value", help: "only print process names containing this name" },
    { name: "extended", short: "e", long: "extended_fields", kind: "flag", help: "show extended fields" },
    { name: "flagFilter", short: "f", long: "flag_filter", kind: "list", metavar: "FLAG_FILTER", parse: parseFlag, help: "filter on flags argument (e.g., O_WRONLY)" },
    bufferPagesOption(),
  ],
  examples: [
    ["tsbcc opensnoop", "trace all open() syscalls"],
    ["tsbcc opensnoop -T", "include timestamps"],
    ["tsbcc opensnoop -U", "include UID"],
    ["tsbcc opensnoop -x", "only show failed opens"],
    ["tsbcc opensnoop -p 181", "only trace PID 181"],
    ["tsbcc opensnoop -t 123", "only trace TID 123"],
    ["tsbcc opensnoop -u 1000", "only trace UID 1000"],
    ["tsbcc opensnoop -d 10", "trace for 10 seconds only"],
    ["tsbcc opensnoop -n main", 'only print process names containing "main"'],
    ["tsbcc opensnoop -e", "show extended fields"],
    ["tsbcc opensnoop -f O_WRONLY -f O_RDWR", "only print calls for writing"],
    ["tsbcc opensnoop --json", "one JSON object per open"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const flagFilter = (o.flagFilter as number[]).reduce((a, f) => a | f, 0) || undefined;
  const stream = await opensnoop({
    pid: o.pid, tid: o.tid, uid: o.uid, flagFilter, failed: o.failed, name: o.name, bufferPages: o.bufferPages,
    signal: run.signal, duration: o.duration,
  }, run.source);
  if (!run.json) {
    run.out.write((o.timestamp ? left("TIME(s)", 14) : "") + (o.printUid ? left("UID", 6) : "") +
      `${left(o.tid !== undefined ? "TID" : "PID", 6)} ${left("COMM", 16)} ${right("FD", 4)} ${right("ERR", 3)} ` +
      (o.extended ? left("FLAGS", 9) : "") + "PATH\n");
  }
  let first: bigint | undefined;
  for await (const ev of stream) {
    if (run.json) {
      run.emit({ time: new Date().toISOString(), ...ev });
      continue;
    }
    first ??= ev.ts;
    let line = "";
    if (o.timestamp) line += left((Number(ev.ts - first) / 1e9).toFixed(9), 14);
    if (o.printUid) line += left(ev.uid, 6);
    line += `${left(o.tid !== undefined ? ev.tid : ev.pid, 6)} ${left(ev.comm, 16)} ${right(ev.fd, 4)} ${right(ev.errno, 3)} `;
    if (o.extended) line += `${ev.flags.toString(8).padStart(8, "0")} `;
    run.out.write(`${line}${ev.path}\n`);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
