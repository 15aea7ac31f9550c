// drsnoop: one line per direct reclaim a task had to do (its latency and the pages it reclaimed), from the
// vmscan:mm_vmscan_direct_reclaim_begin/end tracepoints, and the memcg_reclaim pair when the kernel has it (a
// task over its cgroup's memory limit reclaims directly too; the kernel reports that on separate tracepoints).
import { readFileSync } from "node:fs";
import { UsageError } from "./lib/errors.js";
import { left, right } from "./lib/format.js";
import { durationOption, pidOption, tidOption, uidOption, printUidOption, timeOption } from "./lib/options.js";
import { chooseSource, sourceHas, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "drsnoop";

export interface ReclaimEvent {
  ts: bigint;
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  latencyMs: number;
  pagesReclaimed: number;
  /** "direct" (global memory pressure) or "memcg" (the task's cgroup limit). */
  kind: "direct" | "memcg";
}

export interface DrsnoopOptions extends StreamOptions {
  pid?: number;
  tid?: number;
  uid?: number;
  /** Only process names containing this. */
  name?: string;
}

const SOURCES = [{
  kind: "tracepoint",
  targets: ["vmscan:mm_vmscan_direct_reclaim_begin", "vmscan:mm_vmscan_direct_reclaim_end", "vmscan:mm_vmscan_memcg_reclaim_begin?", "vmscan:mm_vmscan_memcg_reclaim_end?"],
}] as const;

function program(o: DrsnoopOptions, memcg: boolean, k: ToolConstants): string {
  const pair = (prefix: string, kind: number): string => `
TRACEPOINT_PROBE(vmscan, ${prefix}_begin) {
    return begin();
}
TRACEPOINT_PROBE(vmscan, ${prefix}_end) {
    return end(args, args->nr_reclaimed, ${kind});
}`;
  return `
${k.u32("FILTER_PID", o.pid ?? 0)}
${k.u32("FILTER_TID", o.tid ?? 0)}
${k.s64("FILTER_UID", o.uid ?? -1)}

struct reclaim_event_t {
    u64 ts;
    u64 delta_ns;
    u64 nr_reclaimed;
    u32 pid;
    u32 tid;
    u32 uid;
    u32 kind;
    char comm[TASK_COMM_LEN];
};

BPF_HASH(start, u32, u64, 10240);
BPF_PERF_OUTPUT(events);

static int begin(void) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (FILTER_TID && tid != FILTER_TID) return 0;
    if (FILTER_UID >= 0 && (u32)bpf_get_current_uid_gid() != (u32)FILTER_UID) return 0;
    u64 ts = bpf_ktime_get_ns();
    start.update(&tid, &ts);
    return 0;
}

static int end(void *ctx, u64 nr_reclaimed, u32 kind) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    u64 *tsp = start.lookup(&tid);
    if (!tsp) return 0;
    struct reclaim_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.delta_ns = ev.ts - *tsp;
    ev.nr_reclaimed = nr_reclaimed;
    ev.pid = id >> 32;
    ev.tid = tid;
    ev.uid = bpf_get_current_uid_gid();
    ev.kind = kind;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    start.delete(&tid);
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}
${pair("mm_vmscan_direct_reclaim", 0)}
${memcg ? pair("mm_vmscan_memcg_reclaim", 1) : ""}
`;
}

interface RawReclaim { ts: bigint; delta_ns: bigint; nr_reclaimed: bigint; pid: number; tid: number; uid: number; kind: number; comm: string }

/** drsnoop as a library: one ReclaimEvent per direct (or cgroup) reclaim. */
export async function drsnoop(opts: DrsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<ReclaimEvent>> {
  for (const k of ["pid", "tid", "uid"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${v}`);
  }
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, sourceHas(source, "vmscan:mm_vmscan_memcg_reclaim_begin"), k));
  return eventStream<RawReclaim, ReclaimEvent>(b, "events", source, opts, (r) => (opts.name && !r.comm.includes(opts.name) ? undefined : {
    ts: r.ts, pid: r.pid, tid: r.tid, uid: r.uid, comm: r.comm, latencyMs: Number(r.delta_ns) / 1e6, pagesReclaimed: Number(r.nr_reclaimed),
    kind: r.kind === 1 ? "memcg" : "direct",
  }));
}

function freeKb(): number {
  try {
    return Number(/^MemFree:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace direct reclaim",
  json: "event",
  sources: SOURCES,
  options: [
    timeOption(),
    printUidOption(),
    pidOption(), tidOption(), uidOption(), durationOption(),
    { name: "name", short: "n", long: "name", kind: "value", help: "only print process names containing this name" },
    { name: "memState", short: "v", long: "verbose", kind: "flag", help: "show system memory state" },
  ],
  examples: [
    ["tsbcc drsnoop", "trace all direct reclaim"],
    ["tsbcc drsnoop -T", "include timestamps"],
    ["tsbcc drsnoop -U", "include UID"],
    ["tsbcc drsnoop -p 181", "only trace PID 181"],
    ["tsbcc drsnoop -t 123", "only trace TID 123"],
    ["tsbcc drsnoop -u 1000", "only trace UID 1000"],
    ["tsbcc drsnoop -d 10", "trace for 10 seconds only"],
    ["tsbcc drsnoop -n main", 'only print process names containing "main"'],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await drsnoop({ pid: o.pid, tid: o.tid, uid: o.uid, name: o.name, duration: o.duration, signal: run.signal }, run.source);
  if (!run.json) {
    run.out.write((o.timestamp ? left("TIME(s)", 14) : "") + (o.printUid ? left("UID", 6) : "") +
      `${left("COMM", 14)} ${left(o.tid !== undefined ? "TID" : "PID", 6)} ${right("LAT(ms)", 8)} ${right("PAGES", 5)}` + (o.memState ? right("FREE(KB)", 10) : "") + "\n");
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return ((o.timestamp ? left((Number(ev.ts - first) / 1e9).toFixed(9), 14) : "") + (o.printUid ? left(ev.uid, 6) : "") +
      `${left(ev.comm.slice(0, 14), 14)} ${left(o.tid !== undefined ? ev.tid : ev.pid, 6)} ${right(ev.latencyMs.toFixed(3), 8)} ${right(ev.pagesReclaimed, 5)}` +
      (o.memState ? right(freeKb(), 10) : "") + "\n");
  }, (ev) => ({ ...ev, ...(o.memState ? { freeKb: freeKb() } : {}) }));
}

export const tool: CliTool = { spec, main };
