// trace: prints a line per hit of one or more probes (uprobes, uretprobes, tracepoints, USDT, and kprobes where the
// kernel has them) with a printf-style message of their arguments, as BCC's trace does:
// 'p:lib:func (filter) "format", arg1, arg2' with arg1..arg6, retval (r:) and args->field (t:).
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import { attachPlan, parseProbeSpec, planProbes, probeFunction, type ProbePlan } from "./lib/probe-spec.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "trace";
const MAX_ARGS = 6;

export interface TraceProbe {
  text: string;
  probe: string;
  filter?: string;
  format: string;
  args: string[];
  /** Per argument: a string (%s) or a number. */
  strings: boolean[];
}

/** Splits on top-level commas (not inside parentheses or quotes). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = "", quote = false;
  for (const c of s) {
    if (c === '"') quote = !quote;
    if (!quote && c === "(") depth++;
    if (!quote && c === ")") depth--;
    if (!quote && depth === 0 && c === ",") { out.push(cur.trim()); cur = ""; } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const CONVERSION = /%(-?\d*)(ll|l|h|hh|z)?([diuxXcsp%])/g;

export function parseTraceProbe(text: string): TraceProbe {
  if (typeof text !== "string" || !text.trim()) throw new UsageError(NAME, "a probe is required");
  const m = /^\s*(\S+?)(?:\s*\((.*?)\))?\s*(?:"((?:[^"\\]|\\.)*)"\s*(?:,(.*))?)?\s*$/.exec(text);
  if (!m) throw new UsageError(NAME, `invalid probe "${text}": want TYPE:LIB:FUNC [(filter)] ["format"[, arg...]]`);
  const [, probe, filter, format = "", rest = ""] = m;
  const args = rest.trim() ? splitArgs(rest) : [];
  const convs = [...format.matchAll(CONVERSION)].filter((c) => c[3] !== "%");
  if (convs.length !== args.length) throw new UsageError(NAME, `"${text}": the format has ${convs.length} conversions for ${args.length} arguments`);
  if (args.length > MAX_ARGS) throw new UsageError(NAME, `"${text}": at most ${MAX_ARGS} arguments`);
  return { text, probe: probe!, filter, format, args, strings: convs.map((c) => c[3] === "s") };
}

function cExpr(e: string): string {
  return e.replace(/\barg([1-6])\b/g, "PT_REGS_PARM$1(ctx)").replace(/\bretval\b/g, "PT_REGS_RC(ctx)");
}

const STR = 80;

function program(probes: { p: TraceProbe; plan: ProbePlan }[], o: TraceOptions): string {
  const handlers = probes.map(({ p, plan }, i) => probeFunction(plan, plan.targets[0]!, `
    u64 id = bpf_get_current_pid_tgid();
    ${o.pid !== undefined ? `if ((id >> 32) != ${o.pid}) return 0;` : ""}
    ${o.tid !== undefined ? `if ((u32)id != ${o.tid}) return 0;` : ""}
    ${p.filter ? `if (!(${cExpr(p.filter)})) return 0;` : ""}
    int zero = 0;
    struct trace_event_t *ev = scratch.lookup(&zero);
    if (!ev) return 0;
    ev->probe = ${i};
    ev->pid = id >> 32;
    ev->tid = (u32)id;
    ev->ts = bpf_ktime_get_ns();
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
${p.args.map((a, j) => p.strings[j]
    ? `    bpf_probe_read_user_str(&ev->s[${j}], sizeof(ev->s[${j}]), (void *)(${cExpr(a)}));`
    : `    ev->n[${j}] = (u64)(${cExpr(a)});`).join("\n")}
    events.perf_submit(__ctx, ev, sizeof(*ev));`)).join("\n");
  return `
struct trace_event_t {
    u64 ts;
    u32 probe;
    u32 pid;
    u32 tid;
    char comm[TASK_COMM_LEN];
    u64 n[${MAX_ARGS}];
    char s[${MAX_ARGS}][${STR}];
};
BPF_PERCPU_ARRAY(scratch, struct trace_event_t, 1);
BPF_PERF_OUTPUT(events);
${handlers}`;
}

export interface TraceOptions extends Omit<StreamOptions, "source"> {
  probes: string[];
  pid?: number;
  tid?: number;
  /** Stop after this many events. */
  maxEvents?: number;
}

export interface TraceEvent {
  pid: number;
  tid: number;
  comm: string;
  /** The traced function, tracepoint or USDT probe. */
  function: string;
  message: string;
  /** Kernel monotonic time of the hit (ns). */
  ts: bigint;
}

/** printf of BCC's conversions over the captured values. */
function render(format: string, values: Array<bigint | string>): string {
  let i = 0;
  return format.replace(CONVERSION, (_all, width: string, len: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    const v = values[i++]!;
    let s: string;
    if (typeof v === "string") s = v;
    else if (conv === "d" || conv === "i") s = String(len === "ll" || len === "l" || len === "z" ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v));
    else if (conv === "u") s = String(len ? v : BigInt.asUintN(32, v));
    else if (conv === "x" || conv === "X") { s = (len ? v : BigInt.asUintN(32, v)).toString(16); if (conv === "X") s = s.toUpperCase(); }
    else if (conv === "p") s = `0x${v.toString(16)}`;
    else s = String.fromCharCode(Number(v & 0xffn));
    const w = Number(width || 0);
    return w < 0 ? s.padEnd(-w) : s.padStart(w);
  }).replace(/\\n/g, "\n").replace(/\\t/g, "\t");
}

/** trace as a library: one TraceEvent per probe hit. */
export async function trace(opts: TraceOptions): Promise<ToolStream<TraceEvent>> {
  if (opts === null || typeof opts !== "object" || !Array.isArray(opts.probes) || opts.probes.length === 0) throw new UsageError(NAME, "at least one probe is required");
  for (const k of ["pid", "tid", "maxEvents"] as const) if (opts[k] !== undefined && (!Number.isInteger(opts[k]) || opts[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${opts[k]}`);
  const probes = opts.probes.map((text, i) => {
    const p = parseTraceProbe(text);
    const plan = planProbes(NAME, parseProbeSpec(NAME, p.probe, ["p", "r", "t", "u"]), { pid: opts.pid, prefix: `probe${i}` });
    if (plan.targets.length !== 1) throw new UsageError(NAME, `"${p.probe}" matches ${plan.targets.length} targets; name one`);
    return { p, plan };
  });
  const usdt = probes.flatMap((x) => (x.plan.usdt ? [x.plan.usdt] : []));
  const b = await loadToolProgram(NAME, program(probes, opts), usdt.length ? { usdtContexts: usdt } : {});
  attachToolProgram(NAME, b, (x) => probes.forEach((pr) => attachPlan(x, pr.plan, { pid: opts.pid })));
  const stream = eventStream<{ ts: bigint; probe: number; pid: number; tid: number; comm: string; n: bigint[]; s: string[] }, TraceEvent>(b, "events", probes[0]!.plan.source, { ...opts, pageCnt: 256 }, (r) => {
    const pr = probes[r.probe]!;
    const values = pr.p.strings.map((isStr, j) => (isStr ? String(r.s[j]) : BigInt(r.n[j]!)));
    return { pid: r.pid, tid: r.tid, comm: r.comm, function: pr.plan.targets[0]!.name, message: render(pr.p.format, values), ts: r.ts };
  });
  if (opts.maxEvents === undefined) return stream;
  const max = opts.maxEvents;
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
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "id of the process to trace (optional)" },
    { name: "tid", short: "L", long: "tid", kind: "value", parse: "uint", help: "id of the thread to trace (optional)" },
    { name: "maxEvents", short: "M", long: "max-events", kind: "value", parse: "uint", help: "number of events to print before quitting" },
    { name: "timestamp", short: "t", long: "timestamp", kind: "flag", help: "print timestamp column (offset from trace start)" },
  ],
  positionals: [{ name: "probes", rest: true, required: true, help: "probe specifier (see examples)" }],
  examples: [
    ["tsbcc trace 'p:c:malloc \"size = %d\", arg1'", "trace malloc calls and print the size being allocated"],
    ["tsbcc trace 'r:c:malloc \"ret = %p\", retval'", "trace malloc returns and print the pointer"],
    ["tsbcc trace 'p:c:write (arg1 == 1) \"writing %d bytes to STDOUT\", arg3'", "trace writes to stdout"],
    ["tsbcc trace 't:syscalls:sys_enter_openat \"%s\", args->filename'", "print the files opened (tracepoint)"],
    ["tsbcc trace -p 1005 'u:/usr/bin/node:http__server__request'", "a USDT probe of process 1005"],
    ["tsbcc trace 'do_sys_open \"%s\", arg2'", "a kernel function (needs kprobes)"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await trace({ probes: o.probes, pid: o.pid, tid: o.tid, maxEvents: o.maxEvents, signal: run.signal });
  let first: bigint | undefined;
  if (!run.json) run.out.write(`${o.timestamp ? `${left("TIME", 14)} ` : ""}${left("PID", 7)} ${left("TID", 7)} ${left("COMM", 15)} ${left("FUNC", 16)} -\n`);
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return `${o.timestamp ? `${left((Number(ev.ts - first) / 1e9).toFixed(6), 14)} ` : ""}${left(ev.pid, 7)} ${left(ev.tid, 7)} ${left(ev.comm, 15)} ${left(ev.function, 16)} ${ev.message}\n`;
  });
}

export const tool: CliTool = { spec, main };
