// argdist: the distribution of a traced function's argument (or return value, or tracepoint field) as a log2
// histogram (-H) or as counts of each value (-C), per interval. Specifiers follow BCC's
// {p,r,t}:{library,category}:function(signature):type:expr[:filter][#label]; the signature names the arguments
// (p: PT_REGS_PARM1.., r: $retval). Numeric types only here (char* strings are not read).
import { UsageError } from "./lib/errors.js";
import { formatHistogramMetric, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, toNumber, type CounterMetric, type HistogramMetric, type IntervalReport, type Metric } from "./lib/metrics.js";
import { positiveInt, positiveNumber } from "./lib/options.js";
import { attachPlan, parseProbeSpec, pidFilter, planProbes, probeFunction, type ProbePlan } from "./lib/probe-spec.js";
import { attachToolProgram, intervalStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { BPF } from "../index.js";

const NAME = "argdist";
const SIGNED = /^(int|long|long long|short|char|s8|s16|s32|s64|signed.*|ssize_t|off_t|pid_t)$/;

export interface ArgdistSpecifier {
  kind: "histogram" | "count";
  text: string;
  probe: string;
  params: { type: string; name: string }[];
  type: string;
  expr: string;
  filter?: string;
  label?: string;
}

/** Parses one specifier; `kind` is -H (histogram) or -C (count). */
export function parseSpecifier(text: string, kind: "histogram" | "count"): ArgdistSpecifier {
  if (typeof text !== "string") throw new UsageError(NAME, "a specifier must be a string");
  const hash = text.indexOf("#");
  const label = hash >= 0 ? text.slice(hash + 1) : undefined;
  const body = hash >= 0 ? text.slice(0, hash) : text;
  const m = /^([prt]):([^:]*):([A-Za-z_][\w.]*)(?:\(([^)]*)\))?(?::([^:]+):([^:]+)(?::(.+))?)?$/.exec(body);
  if (!m) throw new UsageError(NAME, `invalid specifier "${text}": expected {p,r,t}:{library,category}:function(signature):type:expr[:filter][#label]`);
  const [, type, lib, fn, sig, ctype, expr, filter] = m;
  if (ctype !== undefined && ctype.includes(",")) throw new UsageError(NAME, `"${text}": one type and expression per specifier here`);
  if (ctype !== undefined && /char\s*\*/.test(ctype)) throw new UsageError(NAME, `"${text}": string (char *) values are not supported here; use a numeric type`);
  const params = (sig ?? "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
    const pm = /^(.*?)([A-Za-z_]\w*)$/.exec(p);
    if (!pm || !pm[1]!.trim()) throw new UsageError(NAME, `"${text}": bad parameter "${p}" (want "type name")`);
    return { type: pm[1]!.trim(), name: pm[2]! };
  });
  if (params.length > 6) throw new UsageError(NAME, `"${text}": at most 6 parameters`);
  if (type === "r" && expr !== undefined && params.some((p) => new RegExp(`\\b${p.name}\\b`).test(expr))) {
    throw new UsageError(NAME, `"${text}": return probes see $retval, not the parameters`);
  }
  return { kind, text, probe: `${type}:${lib}:${fn}`, params, type: ctype ?? "u64", expr: expr ?? "1", filter, label };
}

export interface ArgdistOptions extends Omit<StreamOptions, "source"> {
  histograms?: string[];
  counts?: string[];
  pid?: number;
  tid?: number;
  /** Keep values across intervals instead of clearing them. */
  cumulative?: boolean;
  /** Interval in seconds (default 1), `count` reports. */
  interval?: number;
  count?: number;
}

function handler(s: ArgdistSpecifier, i: number, o: ArgdistOptions): string {
  const tid = o.tid === undefined ? "" : `    if ((u32)bpf_get_current_pid_tgid() != ${o.tid}) return 0;\n`;
  const params = s.params.map((p, j) => `    ${p.type} ${p.name} = (${p.type})PT_REGS_PARM${j + 1}(ctx);\n`).join("");
  const expr = s.expr.replace(/\$retval/g, "PT_REGS_RC(ctx)");
  const filter = s.filter ? `    if (!(${s.filter.replace(/\$retval/g, "PT_REGS_RC(ctx)")})) break;\n` : "";
  const record = s.kind === "histogram" ? `    hist_${i}.atomic_increment(bpf_log2l((u64)v));` : `    u64 key = (u64)v;\n    counts_${i}.increment(key);`;
  // A block of its own: specifiers on the same function share one handler, and a filter skips only its own.
  return `${pidFilter(o.pid)}${tid}    do {\n${params}${filter}    ${s.type} v = (${s.type})(${expr});\n${record}\n    } while (0);`;
}

interface Planned { spec: ArgdistSpecifier; plan: ProbePlan }

function planAll(o: ArgdistOptions): Planned[] {
  if (o === null || typeof o !== "object") throw new UsageError(NAME, "options are required");
  for (const k of ["pid", "tid"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${o[k]}`);
  if (o.interval !== undefined && !(o.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${o.interval}`);
  const specs = [...(o.histograms ?? []).map((t) => parseSpecifier(t, "histogram")), ...(o.counts ?? []).map((t) => parseSpecifier(t, "count"))];
  if (specs.length === 0) throw new UsageError(NAME, "at least one probe must be specified (-H or -C)");
  return specs.map((spec, i) => {
    const plan = planProbes(NAME, parseProbeSpec(NAME, spec.probe, ["p", "r", "t"]), { pid: o.pid, prefix: `probe${i}` });
    if (plan.targets.length !== 1) throw new UsageError(NAME, `"${spec.text}" matches ${plan.targets.length} functions; name one`);
    return { spec, plan };
  });
}

/** Specifiers probing the same place (kind, binary, target) share one handler: a probe attaches once per object. */
function groups(planned: Planned[]): Planned[][] {
  const by = new Map<string, Planned[]>();
  for (const p of planned) {
    const key = `${p.plan.spec.type}:${p.plan.binary ?? p.plan.spec.library}:${p.plan.targets[0]!.name}`;
    by.set(key, [...(by.get(key) ?? []), p]);
  }
  return [...by.values()];
}

function program(planned: Planned[], o: ArgdistOptions): string {
  const maps = planned.map(({ spec }, i) => (spec.kind === "histogram" ? `BPF_HISTOGRAM(hist_${i}, u64, 64);` : `BPF_HASH(counts_${i}, u64, u64, 10240);`)).join("\n");
  const handlers = groups(planned).map((g) => {
    const { plan } = g[0]!;
    return probeFunction(plan, plan.targets[0]!, g.map((p) => handler(p.spec, planned.indexOf(p), o)).join("\n"));
  });
  return `${maps}\n${handlers.join("\n")}`;
}

function metricOf(b: BPF, { spec }: Planned, i: number, clear: boolean): Metric {
  const name = `argdist_${i}`;
  const help = spec.label ?? spec.text;
  if (spec.kind === "histogram") return histogramMetric({ name, unit: spec.expr, help }, readSlots(b.table<any>(`hist_${i}`), undefined, clear).values());
  const table = b.table<any>(`counts_${i}`);
  const signed = SIGNED.test(spec.type);
  const series = [...table as Iterable<[bigint, bigint]>].map(([k, v]) => ({ labels: { value: String(signed ? BigInt.asIntN(64, BigInt(k)) : BigInt(k)) }, value: toNumber(v) }));
  if (clear) table.clear();
  return { kind: "counter", name, unit: "count", help, series } as CounterMetric;
}

/** argdist as a library: IntervalReports, one metric per specifier (histogram for -H, counter by value for -C). */
export async function argdist(opts: ArgdistOptions): Promise<ToolStream<IntervalReport> & { specifiers: ArgdistSpecifier[] }> {
  const planned = planAll(opts);
  const usdt = planned.flatMap((p) => (p.plan.usdt ? [p.plan.usdt] : []));
  const b = await loadToolProgram(NAME, program(planned, opts), usdt.length ? { usdtContexts: usdt } : {});
  attachToolProgram(NAME, b, (x) => groups(planned).forEach((g) => attachPlan(x, g[0]!.plan, { pid: opts.pid })));
  const collect = (seconds: number): IntervalReport => report(NAME, seconds, planned.map((p, i) => metricOf(b, p, i, !opts.cumulative)));
  const stream = intervalStream(planned[0]!.plan.source, { ...opts, interval: opts.interval ?? 1 }, collect, () => b.close());
  return Object.assign(stream, { specifiers: planned.map((p) => p.spec) });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace a function and display a summary of its parameter values.",
  json: "interval",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "id of the process to trace (optional)" },
    { name: "tid", short: "t", long: "tid", kind: "value", parse: "uint", help: "id of the thread to trace (optional)" },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, default: 1, help: "output interval, in seconds (default 1 second)" },
    { name: "duration", short: "d", long: "duration", kind: "value", parse: positiveNumber, help: "total duration of trace, in seconds" },
    { name: "number", short: "n", long: "number", kind: "value", parse: positiveInt, help: "number of outputs" },
    { name: "verbose", short: "v", long: "verbose", kind: "count", help: "print resulting BPF program code before executing" },
    { name: "cumulative", short: "c", long: "cumulative", kind: "flag", help: "do not clear histograms and freq counts at each interval" },
    { name: "top", short: "T", long: "top", kind: "value", parse: positiveInt, help: "number of top results to show (not applicable to histograms)" },
    { name: "histogram", short: "H", long: "histogram", kind: "list", metavar: "specifier", help: "probe specifier to capture histogram of (see examples below)" },
    { name: "count", short: "C", long: "count", kind: "list", metavar: "specifier", help: "probe specifier to capture count of (see examples below)" },
  ],
  examples: [
    ["tsbcc argdist -H 'p::__kmalloc(u64 size):u64:size'", "histogram of kmalloc sizes (needs kprobes)"],
    ["tsbcc argdist -p 1005 -H 'p:c:malloc(size_t size):size_t:size'", "histogram of malloc sizes in process 1005"],
    ["tsbcc argdist -C 'p:c:write(int fd):int:fd'", "count of the fds written to"],
    ["tsbcc argdist -C 'r:c:read():int:$retval:$retval < 0'", "count of read() errors by return value"],
    ["tsbcc argdist -H 't:block:block_rq_issue():u32:args->bytes'", "histogram of block I/O sizes from a tracepoint"],
    ["tsbcc argdist -C 't:syscalls:sys_enter_kill():int:args->sig#signals sent'", "signals sent, with a label"],
  ],
};

/** BCC's count table: "COUNT EVENT" rows, "expr = value", smallest first (the `top` largest with -T). */
function formatCounts(m: CounterMetric, expr: string, top?: number): string {
  let rows = [...m.series].sort((a, b) => a.value - b.value);
  if (top !== undefined) rows = rows.slice(-top);
  return `\t${"COUNT".padEnd(10)} EVENT\n${rows.map((s) => `\t${String(s.value).padEnd(10)} ${expr} = ${s.labels.value}\n`).join("")}`;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const opts: ArgdistOptions = { histograms: o.histogram, counts: o.count, pid: o.pid, tid: o.tid, cumulative: o.cumulative, interval: o.interval, count: o.number, duration: o.duration, signal: run.signal };
  if (o.verbose) run.err.write(program(planAll(opts), opts) + "\n");
  const stream = await argdist(opts);
  for await (const r of stream) {
    if (run.json) {
      run.emit(r);
      continue;
    }
    let text = `[${new Date(r.time).toTimeString().slice(0, 8)}]\n`;
    r.metrics.forEach((m, i) => {
      const s = stream.specifiers[i]!;
      text += `${s.label ?? s.text}\n`;
      text += m.kind === "histogram" ? formatHistogramMetric(m as HistogramMetric, undefined, s.expr) : formatCounts(m as CounterMetric, s.expr, o.top);
    });
    run.out.write(text);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
