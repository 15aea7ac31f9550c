// capable: one line per security capability check (who, which capability, audited or not, the verdict). The
// kernel has no tracepoint for capability checks: this needs a kprobe (or fentry) on cap_capable, looked up in
// the running kernel. Where neither works the tool says so and what it needs. -K/-U add the kernel and user stacks
// of each check (taken on entry to cap_capable), printed under its line as BCC prints them; -x adds the thread and
// whether the check came from a setid call (INSETID); --unique shows a check once per process (cgroup with
// --cgroupmap), capability, verdict and stacks. As in BCC, the tool's own checks are left out.
import { CAP_OPT_INSETID, CAP_OPT_NOAUDIT, CapabilityNames } from "../sys/abi.js";
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { pidOption } from "./lib/options.js";
import { symbolizeStack } from "../symbols/index.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { dropTracingFrames, stackIdMissed } from "./lib/stacks.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "capable";

export interface CapabilityEvent {
  ts: bigint;
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  cap: number;
  capName: string;
  audit: boolean;
  /** The check was made by a setid call (setuid/setgid family: the kernel's CAP_OPT_INSETID), BCC's INSETID. */
  insetid: boolean;
  /** cap_capable's result: 0 allowed, -EPERM denied. */
  verdict: number;
  /** With kernelStack: the kernel frames, innermost (cap_capable) first, "name+0xoff [kernel]". */
  kernelStack?: string[];
  /** With userStack: the user frames, innermost first, "name+0xoff [module]" (read while the process lives). */
  userStack?: string[];
  /** The stack could not be recorded (BCC's "[Missed Kernel Stack]" / "[Missed User Stack]"). */
  missedKernelStack?: boolean;
  missedUserStack?: boolean;
}

export interface CapableOptions extends StreamOptions, TaskFilterOptions {
  pid?: number;
  /** Include checks that are not audited (BCC's -v). */
  nonAudit?: boolean;
  /** Record each check's kernel stack (BCC's -K). */
  kernelStack?: boolean;
  /** Record each check's user stack (BCC's -U). */
  userStack?: boolean;
  /**
   * Report a check only the first time its capability, process (cgroup with cgroupMap), verdict and stacks are seen
   * (BCC's --unique). The kernel keeps what it has seen in an LRU set of 10240 entries.
   */
  unique?: boolean;
  /** Also report the checks of this process itself (by default left out, as BCC's capable leaves out its own). */
  includeSelf?: boolean;
}

const SOURCES = [{ kind: "kprobe", targets: ["cap_capable"] }] as const;

function program(o: CapableOptions, filterC: string, k: ToolConstants): string {
  return `
#include <uapi/linux/ptrace.h>
${filterC}
${k.u32("FILTER_PID", o.pid ?? 0)}
${k.u32("SELF_PID", o.includeSelf ? 0 : process.pid)}
#define ONLY_AUDIT ${o.nonAudit ? 0 : 1}
#define OPT_NOAUDIT ${CAP_OPT_NOAUDIT}
#define OPT_INSETID ${CAP_OPT_INSETID}

struct check_t {
    int cap;
    int audit;
    int insetid;
    int kernel_stack_id;
    int user_stack_id;
};

struct cap_event_t {
    u64 ts;
    u32 pid;
    u32 tid;
    u32 uid;
    int cap;
    int audit;
    int insetid;
    int verdict;
    int kernel_stack_id;
    int user_stack_id;
    char comm[TASK_COMM_LEN];
};
${o.unique ? uniqueC(o.cgroupMap !== undefined) : ""}
BPF_HASH(pending, u32, struct check_t, 10240);
${o.kernelStack || o.userStack ? "BPF_STACK_TRACE(stacks, 2048);" : ""}
BPF_PERF_OUTPUT(events);

int on_cap_capable(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    if (FILTER_PID && (id >> 32) != FILTER_PID) return 0;
    if (SELF_PID && (id >> 32) == SELF_PID) return 0;
    if (tsbcc_task_filtered()) return 0;
    struct check_t c = {};
    c.cap = (int)PT_REGS_PARM3(ctx);
    c.audit = (PT_REGS_PARM4(ctx) & OPT_NOAUDIT) == 0;
    c.insetid = (PT_REGS_PARM4(ctx) & OPT_INSETID) != 0;
    if (ONLY_AUDIT && !c.audit) return 0;
    c.kernel_stack_id = ${o.kernelStack ? "stacks.get_stackid(ctx, 0)" : "-1"};
    c.user_stack_id = ${o.userStack ? "stacks.get_stackid(ctx, BPF_F_USER_STACK)" : "-1"};
    u32 tid = (u32)id;
    pending.update(&tid, &c);
    return 0;
}

int on_cap_capable_return(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct check_t *c = pending.lookup(&tid);
    if (!c) return 0;
    struct cap_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = id >> 32;
    ev.tid = tid;
    ev.uid = bpf_get_current_uid_gid();
    ev.cap = c->cap;
    ev.audit = c->audit;
    ev.insetid = c->insetid;
    ev.verdict = PT_REGS_RC(ctx);
    ev.kernel_stack_id = c->kernel_stack_id;
    ev.user_stack_id = c->user_stack_id;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    pending.delete(&tid);
    ${o.unique ? "if (seen_before(&ev)) return 0;" : ""}
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}
`;
}

/**
 * --unique: a set of (capability, process or cgroup, verdict, stack ids); a check already in it is not reported.
 * BCC keys by cgroup when a cgroup map filters the trace, else by process.
 */
function uniqueC(byCgroup: boolean): string {
  return `
struct seen_t {
    u64 owner;
    int cap;
    int verdict;
    int kernel_stack_id;
    int user_stack_id;
};
BPF_TABLE("lru_hash", struct seen_t, u8, seen, 10240);

static inline int seen_before(struct cap_event_t *ev) {
    struct seen_t key = {};
    key.owner = ${byCgroup ? "bpf_get_current_cgroup_id()" : "ev->pid"};
    key.cap = ev->cap;
    key.verdict = ev->verdict;
    key.kernel_stack_id = ev->kernel_stack_id;
    key.user_stack_id = ev->user_stack_id;
    if (seen.lookup(&key)) return 1;
    u8 one = 1;
    seen.update(&key, &one);
    return 0;
}
`;
}

interface RawCap {
  ts: bigint; pid: number; tid: number; uid: number; cap: number; audit: number; insetid: number; verdict: number; comm: string;
  kernel_stack_id: number; user_stack_id: number;
}

/** capable as a library: one CapabilityEvent per capability check (needs kprobes). */
export async function capable(opts: CapableOptions = {}, chosen?: ChosenSource): Promise<ToolStream<CapabilityEvent>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  for (const k of ["kernelStack", "userStack", "nonAudit", "unique", "includeSelf"] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== "boolean") throw new UsageError(NAME, `${k} must be true or false, got ${String(opts[k])}`);
  }
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const fn = source.targets[0];
  const b = await loadToolProgram(NAME, (k) => program(opts, taskFilterC(NAME, opts), k), { autoload: false });
  attachToolProgram(NAME, b, (p) => {
    p.attachKprobe({ event: fn, fnName: "on_cap_capable" });
    p.attachKretprobe({ event: fn, fnName: "on_cap_capable_return" });
  });
  // Stacks are symbolized as each event is read, while its process (most likely) still runs.
  const frames = (id: number, pid: number): string[] => (id >= 0 ? symbolizeStack(b.table<any>("stacks"), id, { pid, showOffset: true, showModule: true }) : []);
  return eventStream<RawCap, CapabilityEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, tid: r.tid, uid: r.uid, comm: r.comm, cap: r.cap, capName: CapabilityNames[r.cap] ?? `CAP_${r.cap}`,
    audit: r.audit !== 0, insetid: r.insetid !== 0, verdict: r.verdict,
    ...(opts.kernelStack ? { kernelStack: dropTracingFrames(frames(r.kernel_stack_id, -1)), missedKernelStack: stackIdMissed(r.kernel_stack_id) } : {}),
    ...(opts.userStack ? { userStack: frames(r.user_stack_id, r.pid), missedUserStack: stackIdMissed(r.user_stack_id) } : {}),
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace security capability checks",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "nonAudit", short: "v", long: "verbose", kind: "flag", help: "include non-audit checks" },
    pidOption(),
    { name: "kernelStack", short: "K", long: "kernel-stack", kind: "flag", help: "output kernel stack trace" },
    { name: "userStack", short: "U", long: "user-stack", kind: "flag", help: "output user stack trace" },
    { name: "extra", short: "x", long: "extra", kind: "flag", help: "show extra fields in TID and INSETID columns" },
    ...taskFilterOptions(),
    { name: "unique", long: "unique", kind: "flag", help: "don't repeat stacks for the same pid or cgroup" },
  ],
  examples: [
    ["tsbcc capable", "trace capability checks"],
    ["tsbcc capable -v", "verbose: include non-audit checks"],
    ["tsbcc capable -p 181", "only trace PID 181"],
    ["tsbcc capable -K", "add kernel stacks to trace"],
    ["tsbcc capable -U", "add user-space stacks to trace"],
    ["tsbcc capable -x", "extra fields: show TID and INSETID columns"],
    ["tsbcc capable --unique", "don't repeat stacks for the same pid or cgroup"],
    ["tsbcc capable -K --unique", "each distinct kernel stack of a check once per process"],
    ["tsbcc capable --cgroupmap mappath", "only trace cgroups in this BPF map"],
    ["tsbcc capable --mntnsmap mappath", "only trace mount namespaces in the map"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await capable({
    pid: o.pid, nonAudit: o.nonAudit, kernelStack: o.kernelStack, userStack: o.userStack, unique: o.unique, signal: run.signal, ...taskFilterValues(o),
  }, run.source);
  if (!run.json) run.out.write(capHeader(o.extra));
  return printEvents(stream, run, (ev) => {
    return formatCapLine(clock(), ev, o.extra) +
      (o.kernelStack ? formatCapStack(ev.kernelStack, ev.missedKernelStack, "Kernel") : "") +
      (o.userStack ? formatCapStack(ev.userStack, ev.missedUserStack, "User") : "");
  });
}

/** BCC's header; -x adds TID (after PID) and INSETID (after AUDIT); VERDICT (not in BCC) stays last. */
export function capHeader(extra: boolean): string {
  return `${left("TIME", 9)} ${left("UID", 6)} ${left("PID", 6)} ${extra ? left("TID", 6) + " " : ""}${left("COMM", 16)} ${left("CAP", 4)} ` +
    `${left("NAME", 20)} ${left("AUDIT", 6)} ${extra ? left("INSETID", 7) + " " : ""}VERDICT\n`;
}

/** One check's line under capHeader(extra). */
export function formatCapLine(time: string, ev: CapabilityEvent, extra: boolean): string {
  return `${left(time, 9)} ${left(ev.uid, 6)} ${left(ev.pid, 6)} ${extra ? left(ev.tid, 6) + " " : ""}${left(ev.comm, 16)} ${left(ev.cap, 4)} ` +
    `${left(ev.capName, 20)} ${left(ev.audit ? 1 : 0, 6)} ${extra ? left(ev.insetid ? 1 : 0, 7) + " " : ""}${ev.verdict === 0 ? "allow" : "deny"}\n`;
}

/** BCC's stack under a capability line: each frame indented 8 spaces, or "[Missed Kernel Stack]" indented 4. */
export function formatCapStack(frames: readonly string[] | undefined, missed: boolean | undefined, kind: "Kernel" | "User"): string {
  if (missed) return `    [Missed ${kind} Stack]\n`;
  return (frames ?? []).map((f) => `        ${f}\n`).join("");
}

export const tool: CliTool = { spec, main };
