// stackcount: counts the distinct stacks that lead to an event (a user function by uprobe, a tracepoint, a USDT
// probe, or a kernel function by kprobe where the kernel has them), per interval or at the end, in BCC's layout,
// folded with -f, or as a flame graph with --flamegraph.
import { BPF } from "../index.js";
import { foldFrames, formatFolded, type FoldedStack } from "../export/flamegraph.js";
import { UsageError } from "./lib/errors.js";
import { clock } from "./lib/format.js";
import { positiveNumber } from "./lib/options.js";
import { attachPlan, parseProbeSpec, pidFilter, planProbes, probeFunction, type ProbePlan } from "./lib/probe-spec.js";
import { readStackCounts, stackOptions, stackStream, stackCountMapsC, writeStackFiles, type StackCount } from "./lib/stacks.js";
import { attachToolProgram, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const NAME = "stackcount";

export interface StackcountOptions extends Omit<StreamOptions, "source"> {
  /** BCC's pattern: "c:malloc", "t:sched:sched_switch", "u:BIN:probe", "BIN:func*", "submit_bio" (kprobes). */
  pattern: string;
  regexp?: boolean;
  pid?: number;
  cpu?: number;
  /** Stacks per process (comm and pid kept apart); otherwise equal stacks of all processes add up. */
  perPid?: boolean;
  userStacks?: boolean;
  kernelStacks?: boolean;
  /** Frames with "+0x.." offsets. */
  showOffset?: boolean;
  /** Also the raw address of each frame (StackCount.userAddresses / kernelAddresses; BCC's -v). */
  addresses?: boolean;
  interval?: number;
  count?: number;
}

function program(plan: ProbePlan, o: StackcountOptions, user: boolean, kernel: boolean): string {
  const cpu = o.cpu === undefined ? "" : `    if (bpf_get_smp_processor_id() != ${o.cpu}) return 0;\n`;
  const body = `${pidFilter(o.pid)}${cpu}    struct key_t key = {};
    key.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&key.name, sizeof(key.name));
    key.user_stack_id = ${user ? "stack_traces.get_stackid(__ctx, BPF_F_USER_STACK)" : "-1"};
    key.kernel_stack_id = ${kernel ? "stack_traces.get_stackid(__ctx, 0)" : "-1"};
    counts.increment(key);`;
  return `
${stackCountMapsC(10240, 4096)}` + plan.targets.map((t) => probeFunction(plan, t, body)).join("\n");
}

/** Equal frames of different processes add up (BCC's output without -P); with addresses, equal addresses too. */
function mergeProcesses(stacks: StackCount[]): StackCount[] {
  const byFrames = new Map<string, StackCount>();
  for (const s of stacks) {
    const id = JSON.stringify([s.user, s.kernel, ...(s.userAddresses ? [String(s.userAddresses), String(s.kernelAddresses)] : [])]);
    const hit = byFrames.get(id);
    if (hit) hit.value += s.value;
    else byFrames.set(id, { ...s, pid: -1, comm: "" });
  }
  return [...byFrames.values()].sort((a, b) => a.value - b.value);
}

function plan(o: StackcountOptions): { plan: ProbePlan; user: boolean; kernel: boolean } {
  if (o === null || typeof o !== "object") throw new UsageError(NAME, "options are required ({ pattern })");
  for (const k of ["pid", "cpu"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${o[k]}`);
  if (o.userStacks === false && o.kernelStacks === false) throw new UsageError(NAME, "user and kernel stacks are both off: nothing to count");
  const p = planProbes(NAME, parseProbeSpec(NAME, o.pattern, ["p", "t", "u"]), { pid: o.pid, regexp: o.regexp, prefix: "stack" });
  const userProbe = p.source.kind === "uprobe" || p.source.kind === "usdt";
  // As BCC: user probes have only user stacks; kernel events get user stacks too when a process is named.
  const user = o.userStacks ?? (userProbe || o.pid !== undefined || p.source.kind === "tracepoint");
  const kernel = o.kernelStacks ?? !userProbe;
  return { plan: p, user, kernel };
}

/** stackcount as a library: arrays of stacks (value = hits), one per interval or one at the end. */
export async function stackcount(opts: StackcountOptions): Promise<ToolStream<StackCount[]> & { targets: string[] }> {
  const { plan: p, user, kernel } = plan(opts);
  const b = await loadToolProgram(NAME, program(p, opts, user, kernel), p.usdt ? { usdtContexts: [p.usdt] } : {});
  attachToolProgram(NAME, b, (x) => attachPlan(x, p, { pid: opts.pid }));
  if (opts.pid !== undefined) BPF.rememberProcess(opts.pid);
  const collect = (): StackCount[] => {
    const stacks = readStackCounts(b, "counts", "stack_traces", { user, kernel, clear: true, showOffset: opts.showOffset, addresses: opts.addresses });
    return opts.perPid ? stacks : mergeProcesses(stacks);
  };
  return Object.assign(stackStream(p.source, opts, collect, () => b.close()), { targets: p.targets.map((t) => t.name) });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Count events and their stack traces",
  json: "event",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "trace this PID only" },
    { name: "cpu", short: "c", long: "cpu", kind: "value", parse: "uint", help: "trace this CPU only" },
    { name: "interval", short: "i", long: "interval", kind: "value", parse: positiveNumber, help: "summary interval, seconds" },
    { name: "duration", short: "D", long: "duration", kind: "value", parse: positiveNumber, help: "total duration of trace, seconds" },
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "include timestamp on output" },
    { name: "regexp", short: "r", long: "regexp", kind: "flag", help: "use regular expressions. Default is \"*\" wildcards only." },
    { name: "offset", short: "s", long: "offset", kind: "flag", help: "show address offsets" },
    { name: "perpid", short: "P", long: "perpid", kind: "flag", help: "display stacks separately for each process" },
    { name: "verbose", short: "v", long: "verbose", kind: "flag", help: "show raw addresses" },
    { name: "kernelOnly", short: "K", long: "kernel-stacks-only", kind: "flag", help: "kernel stack only" },
    { name: "userOnly", short: "U", long: "user-stacks-only", kind: "flag", help: "user stack only" },
    ...stackOptions().filter((o) => ["delimited", "folded", "flamegraph", "foldedFile"].includes(o.name)),
    { name: "debug", long: "debug", kind: "flag", help: "print BPF program before starting (for debugging purposes)" },
  ],
  positionals: [{ name: "pattern", required: true, help: "search expression for events" }],
  examples: [
    ["tsbcc stackcount submit_bio", "count kernel stack traces for submit_bio (needs kprobes)"],
    ["tsbcc stackcount -d t:block:block_rq_issue", "kernel and user stacks of block I/O issues, with a delimiter"],
    ["tsbcc stackcount -s t:sched:sched_switch", "show symbol offsets"],
    ["tsbcc stackcount -sv c:malloc", "show offsets and raw addresses (verbose)"],
    ["tsbcc stackcount 't:syscalls:sys_enter_open*'", "count stacks for tracepoints matching the wildcard"],
    ["tsbcc stackcount -r '^t:syscalls:sys_enter_(read|write)$'", "regular expressions instead of wildcards"],
    ["tsbcc stackcount -Ti 5 t:sched:sched_wakeup", "output every 5 seconds, with timestamps"],
    ["tsbcc stackcount -p 185 t:syscalls:sys_enter_write", "only count stacks when PID 185 is on-CPU"],
    ["tsbcc stackcount -c 1 t:sched:sched_switch", "only count stacks when CPU 1 is on-CPU"],
    ["tsbcc stackcount -P c:malloc", "display stacks separately for each process"],
    ["tsbcc stackcount c:malloc", "count stacks for malloc() in libc"],
    ["tsbcc stackcount -f -P c:malloc > out.folded", "folded output for flame graphs"],
    ["tsbcc stackcount u:pthread:pthread_create", "count stacks of a USDT probe"],
    ["tsbcc stackcount --flamegraph malloc.svg -D 10 c:malloc", "10 seconds, then write a flame graph"],
  ],
};

/** A frame line: two spaces, with -v the address (left-aligned hex, 16 wide), the symbol. */
const frameLine = (f: string, addr: bigint | undefined): string => `  ${addr !== undefined ? `${addr.toString(16).padEnd(16)} ` : ""}${f}\n`;

/** BCC's stackcount block: frames with two spaces, "    --" between kernel and user, "    comm [pid]" with -P. */
function formatBlock(s: StackCount, o: Record<string, any>): string {
  let text = "";
  s.kernel.forEach((f, i) => (text += frameLine(f, s.kernelAddresses?.[i])));
  if (o.delimited && s.kernel.length && s.user.length) text += "    --\n";
  s.user.forEach((f, i) => (text += frameLine(f, s.userAddresses?.[i])));
  if (o.perpid) text += `    ${s.comm} [${s.pid}]\n`;
  return text + `    ${s.value}\n\n`;
}

function folded(stacks: StackCount[], o: Record<string, any>): FoldedStack[] {
  return stacks.map((s) => [foldFrames({ ...(o.perpid ? { comm: s.comm } : {}), user: s.user, kernel: s.kernel, delimiter: o.delimited, annotateKernel: false }), s.value] as const);
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.userOnly && o.kernelOnly) throw new UsageError(NAME, "argument -U/--user-stacks-only: not allowed with argument -K/--kernel-stacks-only");
  const opts: StackcountOptions = {
    pattern: o.pattern, regexp: o.regexp, pid: o.pid, cpu: o.cpu, perPid: o.perpid, showOffset: o.offset, addresses: o.verbose,
    userStacks: o.userOnly ? true : o.kernelOnly ? false : undefined, kernelStacks: o.kernelOnly ? true : o.userOnly ? false : undefined,
    interval: o.interval, duration: o.duration, signal: run.signal,
  };
  if (o.debug) { const p = plan(opts); run.err.write(program(p.plan, opts, p.user, p.kernel) + "\n"); }
  const stream = await stackcount(opts);
  if (!run.json && !o.folded) run.out.write(`Tracing ${stream.targets.length} functions for "${o.pattern}"... Hit Ctrl-C to end.\n`);
  const all: StackCount[] = [];
  for await (const stacks of stream) {
    all.push(...stacks);
    if (run.json) { for (const s of stacks) run.emit(s); continue; }
    if (o.folded) { run.out.write(formatFolded(folded(stacks, o))); continue; }
    run.out.write(`\n${o.timestamp ? `${clock()}\n` : ""}${stacks.map((s) => formatBlock(s, o)).join("")}`);
  }
  for (const line of writeStackFiles(all, { flamegraph: o.flamegraph, folded: o.foldedFile, title: `Stacks of ${o.pattern}`, countName: "calls" })) run.err.write(`${line}\n`);
  if (!run.json && !o.folded) run.out.write("Detaching...\n");
  return 0;
}

export const tool: CliTool = { spec, main };
