// opensnoop: one line per open()/openat()/openat2(), with the fd or errno, like BCC's tool. Events come from the
// syscall tracepoints (the enter event keeps the arguments per thread, the exit event reads the path and reports).
import { readlinkSync } from "node:fs";
import { OpenFlags } from "../sys/abi.js";
import { UsageError } from "./lib/errors.js";
import { left, right } from "./lib/format.js";
import { bufferPagesOption, durationOption, pidOption, tidOption, uidOption, failedOption, printUidOption, timeOption } from "./lib/options.js";
import { PATH_SHOWN, pathSyscallProgram, pathSyscallTargets, type PathSyscall, type RawPathEvent } from "./lib/path-syscalls.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { batchedRingPages, batchedWakeup, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { ToolConstants } from "./lib/constants.js";

const NAME = "opensnoop";

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

export interface OpensnoopOptions extends StreamOptions, TaskFilterOptions {
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
  /**
   * Relative paths made absolute with the process's working directory (BCC's -F), read from /proc/PID/cwd when
   * the event is read: a process that changed directory since shows its new one, one that exited before its
   * event was read keeps the last directory seen for it, else the relative path. Events are then read one by
   * one (no batched wakeups) to keep that window short.
   */
  fullPath?: boolean;
}

const CALLS: PathSyscall[] = [
  { name: "openat", path: "args->filename", flags: "args->flags" },
  { name: "open", path: "args->filename", flags: "args->flags" },
  { name: "openat2", path: "args->filename", prologue: "u64 how_flags = 0;\n    bpf_probe_read_user(&how_flags, sizeof(how_flags), &args->how->flags);", flags: "(int)how_flags" },
];

/** sizeof(struct path_event_t): ts, six 32-bit fields, comm, path. */
const PATH_EVENT_BYTES = 8 + 6 * 4 + 16 + PATH_SHOWN;

const SOURCES = [{ kind: "tracepoint", targets: pathSyscallTargets(CALLS, ["openat"]) }] as const;

/** The BPF program (BCC's dialect) opensnoop loads for these options on this kernel (the benchmark runs it in BCC too). */
export function opensnoopProgram(opts: OpensnoopOptions = {}, without: readonly string[] = []): string {
  return pathSyscallProgram(new ToolConstants(true), CALLS.filter((c) => !without.includes(c.name)), opts, chooseSource(NAME, SOURCES, opts.source));
}

/** opensnoop as a library: one OpenEvent per open. */
export async function opensnoop(opts: OpensnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<OpenEvent>> {
  for (const k of ["pid", "tid", "uid", "flagFilter"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${v}`);
  }
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => pathSyscallProgram(k, CALLS, opts, source, taskFilterC(NAME, opts)));
  const pageCnt = opts.bufferPages ?? batchedRingPages();
  const full = opts.fullPath ? cwdResolver() : undefined;
  const wakeupEvents = full ? 1 : batchedWakeup(pageCnt, PATH_EVENT_BYTES);
  return eventStream<RawPathEvent, OpenEvent>(b, "events", source, { ...opts, pageCnt, wakeupEvents }, (r) => {
    const failed = r.ret < 0;
    if (opts.failed && !failed) return undefined;
    if (opts.name && !r.comm.includes(opts.name)) return undefined;
    const path = full && r.path.length > 0 && r.path[0] !== "/" ? full(r.pid, r.tid, r.path) : r.path;
    return { ts: r.ts, pid: r.pid, tid: r.tid, uid: r.uid, comm: r.comm, fd: failed ? -1 : r.ret, errno: failed ? -r.ret : 0, flags: r.flags, path };
  });
}

/** How many processes' last working directories -F remembers for processes that exited before their event was read. */
const CWD_MEMORY = 1024;

/** `rel` joined to the thread's working directory (as BCC: no normalization of "." or ".."). */
function cwdResolver(): (pid: number, tid: number, rel: string) => string {
  const last = new Map<number, string>();
  return (pid, tid, rel) => {
    let cwd: string | undefined;
    for (const link of [`/proc/${pid}/task/${tid}/cwd`, `/proc/${pid}/cwd`]) {
      try {
        cwd = readlinkSync(link);
        break;
      } catch {
        // exited, or not ours to read: try the process, then what we saw before
      }
    }
    if (cwd === undefined) cwd = last.get(pid);
    else {
      if (last.size >= CWD_MEMORY && !last.has(pid)) last.delete(last.keys().next().value!);
      last.set(pid, cwd);
    }
    if (cwd === undefined) return rel;
    return cwd.endsWith("/") ? cwd + rel : `${cwd}/${rel}`;
  };
}

function parseFlag(s: string): number {
  const v = (OpenFlags as Record<string, number>)[s.toUpperCase()];
  if (v === undefined) throw new TsbccError(ErrorCode.USAGE, `unknown open flag '${s}' (e.g. O_WRONLY, O_RDWR, O_CREAT)`);
  return v;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace open() syscalls",
  json: "event",
  sources: SOURCES,
  options: [
    timeOption(),
    printUidOption(),
    failedOption("only show failed opens"),
    pidOption(), tidOption(), ...taskFilterOptions(), uidOption(), durationOption(),
    { name: "name", short: "n", long: "name", kind: "value", help: "only print process names containing this name" },
    { name: "extended", short: "e", long: "extended_fields", kind: "flag", help: "show extended fields" },
    { name: "flagFilter", short: "f", long: "flag_filter", kind: "list", metavar: "FLAG_FILTER", parse: parseFlag, help: "filter on flags argument (e.g., O_WRONLY)" },
    { ...bufferPagesOption(), default: undefined, help: "size of the perf ring buffer (a power of two number of pages; default 128 on up to 8 CPUs, else 64)" },
    { name: "fullPath", short: "F", long: "full-path", kind: "flag", help: "print relative paths in full, joined to the working directory of the process" },
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
    ["tsbcc opensnoop -F", "relative paths in full (joined to the process's working directory)"],
    ["tsbcc opensnoop --json", "one JSON object per open"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const flagFilter = (o.flagFilter as number[]).reduce((a, f) => a | f, 0) || undefined;
  const stream = await opensnoop({
    pid: o.pid, tid: o.tid, uid: o.uid, flagFilter, failed: o.failed, name: o.name, bufferPages: o.bufferPages, fullPath: o.fullPath,
    signal: run.signal, duration: o.duration, ...taskFilterValues(o),
  }, run.source);
  if (!run.json) {
    run.out.write((o.timestamp ? left("TIME(s)", 14) : "") + (o.printUid ? left("UID", 6) : "") +
      `${left(o.tid !== undefined ? "TID" : "PID", 6)} ${left("COMM", 16)} ${right("FD", 4)} ${right("ERR", 3)} ` +
      (o.extended ? left("FLAGS", 9) : "") + "PATH\n");
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    let line = "";
    if (o.timestamp) line += left((Number(ev.ts - first) / 1e9).toFixed(9), 14);
    if (o.printUid) line += left(ev.uid, 6);
    line += `${left(o.tid !== undefined ? ev.tid : ev.pid, 6)} ${left(ev.comm, 16)} ${right(ev.fd, 4)} ${right(ev.errno, 3)} `;
    if (o.extended) line += `${ev.flags.toString(8).padStart(8, "0")} `;
    return `${line}${ev.path}\n`;
  });
}

export const tool: CliTool = { spec, main };
