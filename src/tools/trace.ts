// trace: prints a line per hit of one or more probes (uprobes, uretprobes, tracepoints, USDT, and kprobes where the
// kernel has them) with a printf-style message of their arguments, as BCC's trace does:
// 'p:lib:func[(signature)] (filter) "format", arg1, arg2' with arg1..arg6 (or the signature's names), retval (r:),
// args->field (t:) and the USDT probe's own arguments (u:). -s FILES records user stacks as build-id frames resolved from those files (lib/trace-stacks.ts).
import { closeSync, openSync, statSync } from "node:fs";
import { BPF } from "../index.js";
import { symbolizeFrame } from "../symbols/index.js";
import { UsageError } from "./lib/errors.js";
import { clock, left, monotonicNs } from "./lib/format.js";
import { bufferPagesOption, uidOption } from "./lib/options.js";
import { attachPlan, planProbes } from "./lib/probe-spec.js";
import { parseUsdtAwareSpec } from "./lib/usdt-args.js";
import { readAddressedStack, type AddressedStack } from "./lib/stacks.js";
import { DEFAULT_STRING_SIZE, parseTraceProbe, renderMessage, traceProgram, type TraceProbe } from "./lib/trace-program.js";
import { extraIncludes } from "./lib/extra-includes.js";
import { loadSymbolFiles, readUserStack } from "./lib/trace-stacks.js";
import { planUsdt, type USDT } from "../usdt/index.js";
import type { ProbePlan } from "./lib/probe-spec.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "trace";

export { parseTraceProbe, type TraceProbe } from "./lib/trace-program.js";

export interface TraceOptions extends Omit<StreamOptions, "source"> {
  probes: string[];
  pid?: number;
  tid?: number;
  uid?: number;
  /** Stop after this many events (counted after the name and message filters). */
  maxEvents?: number;
  /** Also trace this process itself (by default its own hits are filtered out, as BCC's trace does without -S). */
  includeSelf?: boolean;
  /** Only tasks in this cgroup (v2 directory) or below it. */
  cgroupPath?: string;
  /** Only events whose comm contains this text. */
  name?: string;
  /** Only events whose formatted message contains this text. */
  msgFilter?: string;
  /** STRCMP's literal is a C array initializer of binary values. */
  binCmp?: boolean;
  /** Bytes read for each %s (default 80). */
  stringSize?: number;
  /** Capture the kernel / user stack of each event. */
  kernelStack?: boolean;
  userStack?: boolean;
  /** Perf buffer pages per CPU (default 64). */
  bufferPages?: number;
  /** Extra headers for the program (-I): a file path, or a kernel header name such as "linux/sched.h". */
  includes?: string[];
  /**
   * ELF files (executables, libraries) the user stacks are symbolized from (-s): stacks are then recorded as
   * build-id frames, which resolve through these files even after the traced process has exited. Needs userStack.
   */
  symFiles?: string[];
}

export interface TraceEvent {
  pid: number;
  tid: number;
  comm: string;
  cpu: number;
  /** The traced function, tracepoint or USDT probe. */
  function: string;
  message: string;
  /** Kernel monotonic time of the hit (ns). */
  ts: bigint;
  /** With kernelStack / userStack: the frames, innermost first ("func+0x1a [module]"), and their addresses. */
  kernelStack?: AddressedStack;
  userStack?: AddressedStack;
  /** The stack id's error (e.g. -14, -EFAULT) when that stack could not be taken. */
  kernelStackError?: number;
  userStackError?: number;
}

function checkOptions(o: TraceOptions): void {
  if (o === null || typeof o !== "object" || !Array.isArray(o.probes) || o.probes.length === 0) throw new UsageError(NAME, "at least one probe is required");
  for (const k of ["pid", "tid", "uid", "maxEvents"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${o[k]}`);
  if (o.stringSize !== undefined && (!Number.isInteger(o.stringSize) || o.stringSize < 1 || o.stringSize > MAX_STRING)) throw new UsageError(NAME, `stringSize must be an integer from 1 to ${MAX_STRING}, got ${o.stringSize}`);
  if (o.bufferPages !== undefined && (!Number.isInteger(o.bufferPages) || o.bufferPages <= 0 || (o.bufferPages & (o.bufferPages - 1)) !== 0)) throw new UsageError(NAME, `bufferPages must be a power of two, got ${o.bufferPages}`);
  for (const k of ["name", "msgFilter", "cgroupPath"] as const) if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "")) throw new UsageError(NAME, `${k} must be a non-empty string`);
  if (o.cgroupPath !== undefined && !isDirectory(o.cgroupPath)) throw new UsageError(NAME, `cgroup path ${o.cgroupPath} is not a directory`);
  if (o.symFiles !== undefined && !o.userStack) throw new UsageError(NAME, "-s/--sym_file_list: requires -U/--user-stack (the files symbolize user stacks)");
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Puts the cgroup directory's fd into slot 0 of the program's cgroup array (check_current_task compares with it). */
function setCgroup(b: BPF, path: string): void {
  const fd = openSync(path, "r");
  try {
    b.table<any>("trace_cgroup").set(0, fd);
  } finally {
    closeSync(fd);
  }
}

const MAX_STRING = 4096;

interface RawEvent { ts: bigint; probe: number; pid: number; tid: number; cpu: number; kstack: number; ustack: number; comm: string; n: bigint[]; s: string[] }

interface TracePlan { probes: { p: TraceProbe; plan: ProbePlan }[]; text: string; usdt: USDT[] }

function planTrace(opts: TraceOptions): TracePlan {
  checkOptions(opts);
  const probes = opts.probes.map((text, i) => {
    const p = parseTraceProbe(text);
    const plan = planProbes(NAME, parseUsdtAwareSpec(NAME, p.probe, ["p", "r", "t", "u"]), { pid: opts.pid, prefix: `probe${i}` });
    if (plan.targets.length !== 1) throw new UsageError(NAME, `"${p.probe}" matches ${plan.targets.length} targets; name one`);
    return { p, plan };
  });
  const text = traceProgram(probes, {
    pid: opts.pid, tid: opts.tid, uid: opts.uid, selfPid: opts.pid === undefined && !opts.includeSelf ? process.pid : undefined,
    cgroup: opts.cgroupPath !== undefined, kernelStack: opts.kernelStack, userStack: opts.userStack,
    stringSize: opts.stringSize ?? DEFAULT_STRING_SIZE, binCmp: opts.binCmp, includes: extraIncludes(NAME, opts.includes),
    buildIdStacks: opts.symFiles !== undefined,
  });
  return { probes, text, usdt: probes.flatMap((x) => (x.plan.usdt ? [x.plan.usdt] : [])) };
}

/**
 * The program text trace would load for `opts` (BCC's -v), preceded by the generated USDT argument readers when
 * a probe is a USDT probe. Throws as trace() does for wrong input.
 */
export function traceProgramText(opts: TraceOptions): string {
  const { text, usdt } = planTrace(opts);
  return `${usdt.length ? planUsdt(usdt).prelude : ""}${text}`;
}

/** trace as a library: one TraceEvent per probe hit (that passes the name and message filters). */
export async function trace(opts: TraceOptions): Promise<ToolStream<TraceEvent>> {
  const { probes, text, usdt } = planTrace(opts);
  if (opts.symFiles !== undefined) loadSymbolFiles(NAME, opts.symFiles);
  const b = await loadToolProgram(NAME, text, usdt.length ? { usdtContexts: usdt } : {});
  attachToolProgram(NAME, b, (x) => {
    if (opts.cgroupPath !== undefined) setCgroup(x, opts.cgroupPath);
    probes.forEach((pr) => attachPlan(x, pr.plan, { pid: opts.pid }));
  });
  if (opts.pid !== undefined && opts.userStack) BPF.rememberProcess(opts.pid);
  const stacks = opts.kernelStack || (opts.userStack && !opts.symFiles) ? b.table<any>("trace_stacks") : undefined;
  const ustacks = opts.symFiles ? b.table<any>("trace_ustacks") : stacks;
  const stream = eventStream<RawEvent, TraceEvent>(b, "events", probes[0]!.plan.source, { ...opts, pageCnt: opts.bufferPages ?? 64 }, (r) => {
    if (opts.name !== undefined && !String(r.comm).includes(opts.name)) return undefined;
    const pr = probes[r.probe]!;
    const values = pr.p.kinds.map((kind, j) => {
      if (kind === "s") return String(r.s[j]);
      const v = BigInt(r.n[j]!);
      return kind === "n" ? v : symbolizeFrame(v, { pid: kind === "U" ? r.pid : -1, showModule: kind === "U", showOffset: true });
    });
    const message = renderMessage(pr.p.format, values);
    if (opts.msgFilter !== undefined && !message.includes(opts.msgFilter)) return undefined;
    const ev: TraceEvent = { pid: r.pid, tid: r.tid, comm: r.comm, cpu: r.cpu, function: pr.plan.targets[0]!.name, message, ts: r.ts };
    const sym = { showModule: true, showOffset: true };
    if (opts.kernelStack) {
      if (r.kstack < 0) ev.kernelStackError = r.kstack;
      else ev.kernelStack = readAddressedStack(stacks!, r.kstack, sym);
    }
    if (opts.userStack) {
      if (r.ustack < 0) ev.userStackError = r.ustack;
      else ev.userStack = readUserStack(ustacks!, r.ustack, { ...sym, pid: r.pid });
    }
    return ev;
  });
  return opts.maxEvents === undefined ? stream : limitEvents(stream, opts.maxEvents);
}

function limitEvents<T>(stream: ToolStream<T>, max: number): ToolStream<T> {
  return {
    source: stream.source,
    close: () => stream.close(),
    async *[Symbol.asyncIterator]() {
      let n = 0;
      if (max === 0) { stream.close(); return; }
      for await (const ev of stream) {
        yield ev;
        if (++n >= max) { stream.close(); return; }
      }
    },
  };
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Attach to functions and print trace messages.",
  json: "event",
  options: [
    { ...bufferPagesOption(), metavar: "BUFFER_PAGES" },
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "id of the process to trace (optional)" },
    { name: "tid", short: "L", long: "tid", kind: "value", parse: "uint", help: "id of the thread to trace (optional)" },
    { ...uidOption("id of the user to trace (optional)"), short: undefined },
    { name: "verbose", short: "v", long: "verbose", kind: "flag", help: "print resulting BPF program code before executing" },
    { name: "stringSize", short: "Z", long: "string-size", kind: "value", metavar: "STRING_SIZE", parse: "uint", help: `maximum size to read from strings (default ${DEFAULT_STRING_SIZE}, at most ${MAX_STRING})` },
    { name: "includeSelf", short: "S", long: "include-self", kind: "flag", help: "do not filter trace's own pid from the trace" },
    { name: "maxEvents", short: "M", long: "max-events", kind: "value", metavar: "MAX_EVENTS", parse: "uint", help: "number of events to print before quitting" },
    { name: "timestamp", short: "t", long: "timestamp", kind: "flag", help: "print timestamp column (offset from trace start)" },
    { name: "unixTimestamp", short: "u", long: "unix-timestamp", kind: "flag", help: "print UNIX timestamp instead of offset from trace start, requires -t" },
    { name: "time", short: "T", long: "time", kind: "flag", help: "print time column" },
    { name: "printCpu", short: "C", long: "print_cpu", kind: "flag", help: "print CPU id" },
    { name: "cgroupPath", short: "c", long: "cgroup-path", kind: "value", metavar: "CGROUP_PATH", help: "cgroup path" },
    { name: "name", short: "n", long: "name", kind: "value", metavar: "NAME", help: "only print process names containing this name" },
    { name: "msgFilter", short: "f", long: "msg-filter", kind: "value", metavar: "MSG_FILTER", help: "only print the msg of event containing this string" },
    { name: "binCmp", short: "B", long: "bin_cmp", kind: "flag", help: "allow to use STRCMP with binary values" },
    { name: "symFiles", short: "s", long: "sym_file_list", kind: "value", metavar: "SYM_FILE_LIST", help: "comma separated list of symbol files (executables, libraries) to symbolize -U stacks from (recorded by build-id; works after the process exits)" },
    { name: "kernelStack", short: "K", long: "kernel-stack", kind: "flag", help: "output kernel stack trace" },
    { name: "userStack", short: "U", long: "user-stack", kind: "flag", help: "output user stack trace" },
    { name: "address", short: "a", long: "address", kind: "flag", help: "print virtual address in stacks" },
    { name: "include", short: "I", long: "include", kind: "list", metavar: "header", help: "additional header to include in the BPF program: a file path (or relative to the current directory), or a kernel header name such as linux/sched.h (kernel types come from BTF)" },
    { name: "aggregate", short: "A", long: "aggregate", kind: "flag", help: "aggregate amount of each trace (needs -M)" },
  ],
  positionals: [{ name: "probes", rest: true, interleaved: true, required: true, help: "probe specifier (see examples)" }],
  examples: [
    ["tsbcc trace 'p:c:malloc \"size = %d\", arg1'", "trace malloc calls and print the size being allocated"],
    ["tsbcc trace 'r:c:malloc \"ret = %p\", retval'", "trace malloc returns and print the pointer"],
    ["tsbcc trace 'p:c:write (arg1 == 1) \"writing %d bytes to STDOUT\", arg3'", "trace writes to stdout"],
    ["tsbcc trace 't:syscalls:sys_enter_openat \"%s\", args->filename'", "print the files opened (tracepoint)"],
    ["tsbcc trace -n cat 't:syscalls:sys_enter_openat \"%s\", args->filename'", "only events of processes whose name contains \"cat\""],
    ["tsbcc trace -f config 't:syscalls:sys_enter_openat \"%s\", args->filename'", "only events whose message contains \"config\""],
    ["tsbcc trace 't:syscalls:sys_enter_openat (STRCMP(\"/etc\", args->filename)) \"%s\", args->filename'", "only paths starting with /etc"],
    ["tsbcc trace -U -a 'p:c:inet_pton'", "each call's user stack, with addresses"],
    ["tsbcc trace -tC 't:sched:sched_process_exec'", "timestamps (seconds since start) and CPU ids"],
    ["tsbcc trace -c /sys/fs/cgroup/system.slice/foo.service 't:syscalls:sys_enter_nanosleep'", "only tasks in that cgroup (or below)"],
    ["tsbcc trace -p 1005 'u:/usr/bin/node:http__server__request'", "a USDT probe of process 1005"],
    ["tsbcc trace 'u:/usr/lib/x86_64-linux-gnu/libc.so.6:memory_malloc_retry \"bytes=%d\", arg1'", "a USDT probe's first argument (libc's malloc retry)"],
    ["tsbcc trace -p 1005 'u:pthread:pthread_create (arg4 != 0) \"start=%llx\", arg3'", "USDT probe of a library mapped by process 1005, filtered on its 4th argument"],
    ["tsbcc trace 'p:c:write(int fd, const char *buf, size_t n) (fd == 1) \"%d bytes: %s\", n, buf'", "a signature names the arguments (BCC: right after the function, no space)"],
    ["tsbcc trace 't:net:net_dev_queue \"%s len=%d\", ((struct sk_buff *)args->skbaddr)->dev->name, args->len'", "a tracepoint pointer cast to its kernel struct (BTF): the device's name"],
    ["tsbcc trace 't:syscalls:sys_enter_getpid \"%s\", $task->mm->exe_file->f_path.dentry->d_name.name'", "a string through kernel structs of the current task"],
    ["tsbcc trace -I linux/fs_struct.h 't:syscalls:sys_enter_chdir \"users = %d\", $task->fs->users'", "an extra header (kernel header names resolve to BTF types)"],
    ["tsbcc trace -U -s /usr/lib/x86_64-linux-gnu/libc.so.6,/bin/ping 'p:c:inet_pton'", "user stacks symbolized from these files by build-id"],
    ["tsbcc trace -v 'p:c:malloc \"size = %d\", arg1'", "print the generated BPF program, then trace"],
    ["tsbcc trace 'do_sys_open \"%s\", arg2'", "a kernel function (needs kprobes)"],
  ],
};

/** BCC's stack lines under an event: 8 spaces, the address with -a, the frame; a failed stack id as the number. */
function stackLines(stack: AddressedStack | undefined, error: number | undefined, address: boolean): string {
  if (error !== undefined) return `        ${error}\n`;
  return stack!.frames.map((f, i) => `        ${address ? `${stack!.addresses[i]!.toString(16).padStart(16)} ` : ""}${f}\n`).join("");
}

function timeColumn(o: Record<string, any>, ev: TraceEvent, start: bigint, startReal: number): string {
  if (!o.timestamp && !o.time) return "";
  let t: string;
  if (o.timestamp) {
    const offset = Number(ev.ts - start) / 1e9;
    t = (o.unixTimestamp ? offset + startReal : offset).toFixed(6);
  } else {
    t = clock();
  }
  return o.unixTimestamp ? `${left(t.slice(0, 17), 17)} ` : `${left(t.slice(0, 8), 8)} `;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.unixTimestamp && !o.timestamp) throw new UsageError(NAME, "argument -u/--unix-timestamp: requires -t/--timestamp");
  if (o.aggregate && o.maxEvents === undefined) throw new UsageError(NAME, "-A/--aggregate requires -M/--max-events");
  if (o.address && !o.kernelStack && !o.userStack) throw new UsageError(NAME, "argument -a/--address: requires -K/--kernel-stack or -U/--user-stack");
  const symFiles = o.symFiles === undefined ? undefined : String(o.symFiles).split(",").filter(Boolean);
  const start = monotonicNs();
  const startReal = Date.now() / 1000;
  const opts: TraceOptions = {
    probes: o.probes, pid: o.pid, tid: o.tid, uid: o.uid, maxEvents: o.maxEvents, includeSelf: o.includeSelf, cgroupPath: o.cgroupPath,
    name: o.name, msgFilter: o.msgFilter, binCmp: o.binCmp, stringSize: o.stringSize, kernelStack: o.kernelStack,
    userStack: o.userStack, bufferPages: o.bufferPages, includes: o.include.length ? o.include : undefined, symFiles, signal: run.signal,
  };
  if (o.verbose) run.err.write(`${traceProgramText(opts)}\n`);
  const stream = await trace(opts);
  if (!run.json) {
    const time = o.timestamp || o.time ? `${left("TIME", o.unixTimestamp ? 17 : 8)} ` : "";
    run.out.write(`${time}${o.printCpu ? `${left("CPU", 3)} ` : ""}${left("PID", 7)} ${left("TID", 7)} ${left("COMM", 15)} ${left("FUNC", 16)} -\n`);
  }
  const counts = new Map<string, number>();
  const status = await printEvents(stream, run, (ev) => {
    let text = `${timeColumn(o, ev, start, startReal)}${o.printCpu ? `${left(ev.cpu, 3)} ` : ""}${left(ev.pid, 7)} ${left(ev.tid, 7)} ${left(ev.comm, 15)} ${left(ev.function, 16)} ${ev.message}\n`;
    if (o.kernelStack) text += stackLines(ev.kernelStack, ev.kernelStackError, o.address);
    if (o.userStack) text += stackLines(ev.userStack, ev.userStackError, o.address);
    if (o.aggregate) { counts.set(text, (counts.get(text) ?? 0) + 1); return ""; }
    return o.kernelStack || o.userStack ? `${text}\n` : text;
  });
  if (o.aggregate && !run.json) for (const [text, n] of [...counts].sort((a, b) => b[1] - a[1])) run.out.write(`${text}-->COUNT ${n}\n\n`);
  return status;
}

export const tool: CliTool = { spec, main };
