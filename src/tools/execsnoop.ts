// execsnoop: one line per exec(), like BCC's tool, on syscall tracepoints (works without kprobes).
// Each argument travels as its own event (the BPF stack is too small for a whole argv), then a final event
// carries the return value; user space stitches them together per pid.
import { BPF } from "../api/bpf.js";
import { parseArgs, UsageError, type ToolContext } from "./common.js";
import { requireTracingPrivileges } from "../kernel/privileges.js";

const MAX_ARGS_DEFAULT = 20;
const ARG_SIZE = 128;

function program(maxArgs: number): string {
  return `
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
    struct data_t data = {};
    fill_task(&data, EVENT_RET);
    data.retval = args->ret;
    events.perf_submit(args, &data, sizeof(data));
    return 0;
}
`;
}

interface ExecEvent {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  type: number;
  argv: string;
  retval: number;
}

export const usage = `usage: tsbcc execsnoop [-h] [-T] [-t] [-x] [-u UID] [-q] [-n NAME] [-l LINE] [--max-args N]

Trace exec() syscalls (one line per new program).

  -T, --time          include a time column (HH:MM:SS)
  -t, --timestamp     include a timestamp column (seconds since start)
  -x, --fails         include failed exec()s
  -u, --uid UID       trace this UID only
  -q, --quote         add quotes around arguments
  -n, --name NAME     only print commands matching this name (regex), any argument
  -l, --line LINE     only print commands where arg contains this line (regex)
  -U, --print-uid     print UID column
  --max-args N        maximum number of arguments parsed and displayed (default ${MAX_ARGS_DEFAULT})
  --duration SECONDS  stop after this many seconds`;

export async function run(argv: string[], ctx: ToolContext): Promise<number> {
  const a = parseArgs(argv, {
    flags: { T: "time", t: "timestamp", x: "fails", q: "quote", U: "print-uid" },
    options: { u: "uid", n: "name", l: "line", "max-args": "max-args", duration: "duration" },
  });
  if (a.help) { ctx.out.write(usage + "\n"); return 0; }
  requireTracingPrivileges(); // before anything else: otherwise tracefs (mode 0700) looks unmounted
  const maxArgs = Number(a.options["max-args"] ?? MAX_ARGS_DEFAULT);
  if (!Number.isInteger(maxArgs) || maxArgs < 1 || maxArgs > 128) throw new UsageError("--max-args must be an integer between 1 and 128");
  const uidFilter = a.options.uid !== undefined ? Number(a.options.uid) : undefined;
  const nameRe = a.options.name ? new RegExp(a.options.name) : undefined;
  const lineRe = a.options.line ? new RegExp(a.options.line) : undefined;

  const b = await BPF.load({ text: program(maxArgs), origin: "tsbcc's execsnoop tool" });
  try {
    const start = process.hrtime.bigint();
    const pending = new Map<number, string[]>();
    // exec() often moves the task to another CPU (the kernel balances at exec), so an exec's argument events
    // and its return event can sit in different per-CPU rings. A drain reads every ring, so returns are
    // printed after the drain, when the arguments of the same exec have all been collected.
    const returns: ExecEvent[] = [];
    const print = (ev: ExecEvent): void => {
      const args = pending.get(ev.pid) ?? [];
      pending.delete(ev.pid);
      if (ev.retval !== 0 && !a.flags.fails) return;
      const shown = args.map((s) => (a.flags.quote ? `"${s.replaceAll('"', '\\"')}"` : s)).join(" ");
      if (nameRe && !nameRe.test(ev.comm) && !args.some((s) => nameRe.test(s))) return;
      if (lineRe && !lineRe.test(shown)) return;
      let line = "";
      if (a.flags.time) line += new Date().toTimeString().slice(0, 8) + " ";
      if (a.flags.timestamp) line += (Number(process.hrtime.bigint() - start) / 1e9).toFixed(3).padEnd(8);
      if (a.flags["print-uid"]) line += String(ev.uid).padEnd(6);
      line += `${ev.comm.padEnd(16)} ${String(ev.pid).padEnd(7)} ${String(ev.ppid).padEnd(7)} ${String(ev.retval).padStart(3)} ${shown}\n`;
      ctx.out.write(line);
    };
    b.openPerfBuffer("events", (_cpu, ev: ExecEvent) => {
      if (uidFilter !== undefined && ev.uid !== uidFilter) return;
      if (ev.type === 0) {
        const list = pending.get(ev.pid) ?? [];
        list.push(ev.argv);
        pending.set(ev.pid, list);
      } else {
        returns.push(ev);
      }
    }, { decode: true, lostCb: (n) => ctx.err.write(`Possibly lost ${n} samples\n`) });
    // The header goes out once the perf buffer is open, so nothing run after it appears can be missed.
    const cols = [
      a.flags.time ? "TIME    " : "", a.flags.timestamp ? "TIME(s) " : "", a.flags["print-uid"] ? "UID   " : "",
    ].join("");
    ctx.out.write(`${cols}${"PCOMM".padEnd(16)} ${"PID".padEnd(7)} ${"PPID".padEnd(7)} RET ARGS\n`);
    const deadline = a.options.duration ? Date.now() + Number(a.options.duration) * 1000 : Infinity;
    while (!ctx.signal.aborted && Date.now() < deadline) {
      await b.perfBufferPoll(Math.min(200, Math.max(0, deadline - Date.now())));
      for (const ev of returns.splice(0)) print(ev);
    }
    return 0;
  } finally {
    b.close();
  }
}
