// execsnoop: one line per exec(), like BCC's tool, on syscall tracepoints (works without kprobes).
// Each argument travels as its own event (the BPF stack is too small for a whole argv), then a final event
// carries the return value; user space stitches them together per pid.
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { clock, left, right } from "./lib/format.js";
import { UsageError } from "./lib/errors.js";
import { userId } from "./lib/users.js";
import { printUidOption, timeOption } from "./lib/options.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";

const NAME = "execsnoop";
const MAX_ARGS_DEFAULT = 20;
const ARG_SIZE = 128;

function program(maxArgs: number, filterC: string): string {
  return `
${filterC}
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fs.h>

#define ARGSIZE ${ARG_SIZE}

enum event_type { EVENT_ARG, EVENT_RET };

struct data_t {
    u32 pid;
    u32 ppid;
    u32 uid;
    char comm[TASK_COMM_LEN];
    enum event_type type;
    char argv[ARGSIZE];
    int retval;
};

BPF_PERF_OUTPUT(events);

static void fill_task(struct data_t *data, enum event_type type) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    data->pid = bpf_get_current_pid_tgid() >> 32;
    data->ppid = task->real_parent->tgid;
    data->uid = bpf_get_current_uid_gid();
    bpf_get_current_comm(&data->comm, sizeof(data->comm));
    data->type = type;
}

static int submit_arg(void *ctx, struct data_t *data, const void *ptr) {
    bpf_probe_read_user_str(data->argv, sizeof(data->argv), ptr);
    events.perf_submit(ctx, data, sizeof(struct data_t));
    return 1;
}

TRACEPOINT_PROBE(syscalls, sys_enter_execve) {
    if (tsbcc_task_filtered()) return 0;
    struct data_t data = {};
    fill_task(&data, EVENT_ARG);
    submit_arg(args, &data, args->filename);
    const char *const *argv = (const char *const *)args->argv;
    #pragma unroll
    for (int i = 1; i < ${maxArgs}; i++) {
        const char *argp = NULL;
        bpf_probe_read_user(&argp, sizeof(argp), &argv[i]);
        if (!argp) return 0;
        submit_arg(args, &data, argp);
    }
    // Too many arguments: say so with "...".
    __builtin_memcpy(data.argv, "...", 4);
    events.perf_submit(args, &data, sizeof(struct data_t));
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_execve) {
    if (tsbcc_task_filtered()) return 0;
    struct data_t data = {};
    fill_task(&data, EVENT_RET);
    data.retval = args->ret;
    events.perf_submit(args, &data, sizeof(data));
    return 0;
}
`;
}

interface RawExec { pid: number; ppid: number; uid: number; comm: string; type: number; argv: string; retval: number }

/** One exec(): the new program's arguments (argv[0] is the path given to exec) and exec's return value. */
export interface ExecEvent {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  args: string[];
  /** 0 on success, else -errno. */
  retval: number;
}

export interface ExecsnoopOptions extends StreamOptions, TaskFilterOptions {
  /** Include failed exec()s (default false, as BCC). */
  fails?: boolean;
  uid?: number;
  ppid?: number;
  maxArgs?: number;
}

const SOURCES = [{ kind: "tracepoint", targets: ["syscalls:sys_enter_execve", "syscalls:sys_exit_execve"] }] as const;

/** execsnoop as a library: one ExecEvent per exec(). */
export async function execsnoop(opts: ExecsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<ExecEvent>> {
  const maxArgs = opts.maxArgs ?? MAX_ARGS_DEFAULT;
  if (!Number.isInteger(maxArgs) || maxArgs < 1 || maxArgs > 128) throw new UsageError(NAME, `maxArgs must be an integer between 1 and 128, got ${maxArgs}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(maxArgs, taskFilterC(NAME, opts)));
  const pending = new Map<number, string[]>();
  // exec() often moves the task to another CPU (the kernel balances at exec), so an exec's argument events and
  // its return event can sit in different per-CPU rings: returns are handled after a whole drain (the stream's
  // `drained` hook), when the arguments of the same exec have all been collected.
  const returns: RawExec[] = [];
  const completed = function* (): Generator<ExecEvent> {
    for (const ev of returns.splice(0)) {
      const args = pending.get(ev.pid) ?? [];
      pending.delete(ev.pid);
      if (ev.retval !== 0 && !opts.fails) continue;
      yield { pid: ev.pid, ppid: ev.ppid, uid: ev.uid, comm: ev.comm, args, retval: ev.retval };
    }
  };
  return eventStream<RawExec, ExecEvent>(b, "events", source, { ...opts, drained: completed }, (ev) => {
    if (opts.uid !== undefined && ev.uid !== opts.uid) return undefined;
    if (opts.ppid !== undefined && ev.ppid !== opts.ppid) return undefined;
    if (ev.type === 0) {
      const list = pending.get(ev.pid) ?? [];
      list.push(ev.argv);
      pending.set(ev.pid, list);
    } else {
      returns.push(ev);
    }
    return undefined;
  });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace exec() syscalls",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "time", short: "T", long: "time", kind: "flag", help: "include time column on output (HH:MM:SS)" },
    timeOption(undefined, "t"),
    { name: "fails", short: "x", long: "fails", kind: "flag", help: "include failed exec()s" },
    { name: "uid", short: "u", long: "uid", kind: "value", metavar: "USER", parse: userId, help: "trace this UID only" },
    { name: "quote", short: "q", long: "quote", kind: "flag", help: 'Add quotemarks (") around arguments.' },
    { name: "name", short: "n", long: "name", kind: "value", parse: (s) => new RegExp(s), help: "only print commands matching this name (regex), any arg" },
    { name: "line", short: "l", long: "line", kind: "value", parse: (s) => new RegExp(s), help: "only print commands where arg contains this line (regex)" },
    printUidOption(),
    { name: "maxArgs", long: "max-args", kind: "value", metavar: "MAX_ARGS", parse: "uint", default: MAX_ARGS_DEFAULT, help: "maximum number of arguments parsed and displayed, defaults to 20" },
    { name: "ppid", short: "P", long: "ppid", kind: "value", parse: "uint", help: "trace this parent PID only" },
    ...taskFilterOptions(),
    { name: "duration", long: "duration", kind: "value", metavar: "SECONDS", parse: "number", help: "stop after this many seconds (tsbcc)" },
  ],
  examples: [
    ["tsbcc execsnoop", "trace all exec() syscalls"],
    ["tsbcc execsnoop -x", "include failed exec()s"],
    ["tsbcc execsnoop -T", "include time (HH:MM:SS)"],
    ["tsbcc execsnoop -P 181", "only trace new processes whose parent PID is 181"],
    ["tsbcc execsnoop -U", "include UID"],
    ["tsbcc execsnoop -u 1000", "only trace UID 1000"],
    ["tsbcc execsnoop -t", "include timestamps"],
    ["tsbcc execsnoop -q", 'add "quotemarks" around arguments'],
    ["tsbcc execsnoop -n main", 'only print command lines containing "main"'],
    ["tsbcc execsnoop -l tpkg", 'only print command where arguments contains "tpkg"'],
    ["tsbcc execsnoop --json", "one JSON object per exec"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.maxArgs < 1 || o.maxArgs > 128) throw new UsageError(NAME, "argument --max-args: must be between 1 and 128");
  const stream = await execsnoop({ fails: o.fails, uid: o.uid, ppid: o.ppid, maxArgs: o.maxArgs, signal: run.signal, duration: o.duration, ...taskFilterValues(o) }, run.source);
  const start = process.hrtime.bigint();
  // The header goes out once the perf buffer is open, so nothing run after it appears can be missed.
  if (!run.json) {
    const cols = (o.time ? left("TIME", 9) : "") + (o.timestamp ? left("TIME(s)", 8) : "") + (o.printUid ? left("UID", 6) : "");
    run.out.write(`${cols}${left("PCOMM", 16)} ${left("PID", 7)} ${left("PPID", 7)} RET ARGS\n`);
  }
  for await (const ev of stream) {
    const shown = ev.args.map((s) => (o.quote ? `"${s.replaceAll('"', '\\"')}"` : s)).join(" ");
    if (o.name && !o.name.test(ev.comm) && !ev.args.some((s) => o.name.test(s))) continue;
    if (o.line && !o.line.test(shown)) continue;
    if (run.json) {
      run.emit({ time: new Date().toISOString(), ...ev });
      continue;
    }
    let line = "";
    if (o.time) line += left(clock(), 9);
    if (o.timestamp) line += left((Number(process.hrtime.bigint() - start) / 1e9).toFixed(3), 8);
    if (o.printUid) line += left(ev.uid, 6);
    line += `${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.ppid, 7)} ${right(ev.retval, 3)} ${shown}\n`;
    run.out.write(line);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
