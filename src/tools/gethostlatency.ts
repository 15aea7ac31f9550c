// gethostlatency: host name lookups through libc (getaddrinfo, gethostbyname, gethostbyname2) with their latency:
// a uprobe on entry keeps the name and the time, a uretprobe on return emits the event. Statically linked
// programs and resolvers that bypass libc are not seen.
import { UsageError } from "./lib/errors.js";
import { clock, left, right } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "gethostlatency";
const FUNCTIONS = ["getaddrinfo", "gethostbyname", "gethostbyname2"] as const;
const SOURCES = [{ kind: "uprobe", targets: FUNCTIONS.map((f) => `c:${f}${f === "getaddrinfo" ? "" : "?"}`) }] as const;

export interface GethostlatencyOptions extends StreamOptions {
  pid?: number;
}

export interface HostLookupEvent {
  pid: number;
  tid: number;
  comm: string;
  /** The name looked up. */
  host: string;
  /** Which libc function. */
  function: string;
  latencyMs: number;
}

const HOST_LEN = 80;

function program(o: GethostlatencyOptions): string {
  return `
struct lookup_t {
    u64 ts;
    u32 fn;
    char host[${HOST_LEN}];
};
struct event_t {
    u64 delta_ns;
    u32 pid;
    u32 tid;
    u32 fn;
    char comm[TASK_COMM_LEN];
    char host[${HOST_LEN}];
};
BPF_HASH(pending, u32, struct lookup_t, 10240);
BPF_PERF_OUTPUT(events);

static int on_entry(struct pt_regs *ctx, u32 fn) {
    if (!PT_REGS_PARM1(ctx)) return 0;
    u64 id = bpf_get_current_pid_tgid();
    if (${o.pid ?? -1} >= 0 && (id >> 32) != ${o.pid ?? 0}) return 0;
    u32 tid = (u32)id;
    struct lookup_t l = {};
    l.fn = fn;
    bpf_probe_read_user_str(&l.host, sizeof(l.host), (void *)PT_REGS_PARM1(ctx));
    l.ts = bpf_ktime_get_ns();
    pending.update(&tid, &l);
    return 0;
}
${FUNCTIONS.map((_, i) => `int entry_${i}(struct pt_regs *ctx) { return on_entry(ctx, ${i}); }`).join("\n")}

int on_return(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct lookup_t *l = pending.lookup(&tid);
    if (!l) return 0;
    struct event_t ev = {};
    ev.delta_ns = bpf_ktime_get_ns() - l->ts;
    ev.pid = id >> 32;
    ev.tid = tid;
    ev.fn = l->fn;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    __builtin_memcpy(&ev.host, l->host, sizeof(ev.host));
    pending.delete(&tid);
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawLookup { delta_ns: bigint; pid: number; tid: number; fn: number; comm: string; host: string }

/** gethostlatency as a library: one HostLookupEvent per completed lookup. */
export async function gethostlatency(opts: GethostlatencyOptions = {}, chosen?: ChosenSource): Promise<ToolStream<HostLookupEvent>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts));
  attachToolProgram(NAME, b, (x) => {
    FUNCTIONS.forEach((fn, i) => {
      if (!source.targets.includes(`c:${fn}`)) return;
      const pid = opts.pid !== undefined ? { pid: opts.pid } : {};
      x.attachUprobe({ name: "c", sym: fn, fnName: `entry_${i}`, ...pid });
      x.attachUretprobe({ name: "c", sym: fn, fnName: "on_return", ...pid });
    });
  });
  return eventStream<RawLookup, HostLookupEvent>(b, "events", source, opts, (r) =>
    ({ pid: r.pid, tid: r.tid, comm: r.comm, host: r.host, function: FUNCTIONS[r.fn] ?? "?", latencyMs: Number(r.delta_ns) / 1e6 }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Show latency for getaddrinfo/gethostbyname[2] calls",
  json: "event",
  sources: SOURCES,
  options: [{ name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "trace this PID only" }],
  examples: [
    ["tsbcc gethostlatency", "time getaddrinfo/gethostbyname[2] calls"],
    ["tsbcc gethostlatency -p 181", "only trace PID 181"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await gethostlatency({ pid: o.pid, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`${left("TIME", 9)} ${left("PID", 7)} ${left("COMM", 16)} ${right("LATms", 10)} HOST\n`);
  return printEvents(stream, run, (ev) => `${left(clock(), 9)} ${left(ev.pid, 7)} ${left(ev.comm, 16)} ${right(ev.latencyMs.toFixed(2), 10)} ${ev.host}\n`);
}

export const tool: CliTool = { spec, main };
