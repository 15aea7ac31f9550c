// What the live page shows, measured by small BPF programs of our own through the public BPF API: run queue latency
// (wake-up or preemption -> running, sched tracepoints), block I/O latency (issue -> complete, block tracepoints), and
// syscalls per process (raw_syscalls:sys_enter). Each is a log2 histogram or a counter map that is never cleared;
// the server turns consecutive readings into per-interval columns. The tools' own library functions can replace
// these at merge time (a LiveSource is anything with read() and close()).
import { BPF } from "../../index.js";

export interface ProcessCount {
  pid: number;
  comm: string;
  count: number;
}

export interface LiveReading {
  /** Cumulative log2 slot counts (usecs) since the source started. */
  runqlat?: number[];
  biolatency?: number[];
  /** Cumulative syscalls per process. */
  syscalls?: ProcessCount[];
}

export interface LiveSource {
  /** Panel names this source fills, and why a wanted panel is missing (e.g. no block device). */
  readonly provides: string[];
  readonly missing: Record<string, string>;
  read(): LiveReading;
  close(): void;
}

/**
 * Run queue latency: the time from a wake-up (or a preemption, which leaves the task runnable) until the task runs,
 * in usecs, as a log2 histogram named `histogram` (BPF_HISTOGRAM, 64 slots). With `gate`, an array `enabled` turns
 * counting on and off (enabled[0] != 0), so a test can freeze the histogram.
 */
export function runqlatProgram(opts: { histogram?: string; gate?: boolean } = {}): string {
  const hist = opts.histogram ?? "runq_usecs";
  const gate = opts.gate ? "int z = 0; u32 *e = enabled.lookup(&z); if (!e || !*e) return 0;" : "";
  return `
${opts.gate ? "BPF_ARRAY(enabled, u32, 1);" : ""}
BPF_HASH(queued_at, u32, u64, 16384);
BPF_HISTOGRAM(${hist}, int, 64);
static __always_inline int enqueue(u32 pid) {
    if (pid == 0) return 0;
    ${gate}
    u64 now = bpf_ktime_get_ns();
    queued_at.update(&pid, &now);
    return 0;
}
TRACEPOINT_PROBE(sched, sched_wakeup) { return enqueue(args->pid); }
TRACEPOINT_PROBE(sched, sched_wakeup_new) { return enqueue(args->pid); }
TRACEPOINT_PROBE(sched, sched_switch) {
    if (args->prev_state == 0) enqueue(args->prev_pid);   /* preempted: still runnable, queued again */
    u32 pid = args->next_pid;
    u64 *start = queued_at.lookup(&pid);
    if (!start) return 0;
    u64 usecs = (bpf_ktime_get_ns() - *start) / 1000;
    queued_at.delete(&pid);
    ${gate}
    int slot = bpf_log2l(usecs);
    if (slot > 63) slot = 63;
    ${hist}.increment(slot);
    return 0;
}`;
}

const BIO = `
struct rq_id { u32 dev; u32 pad; u64 sector; };
BPF_HASH(issued_at, struct rq_id, u64, 16384);
BPF_HISTOGRAM(bio_usecs, int, 64);
TRACEPOINT_PROBE(block, block_rq_issue) {
    struct rq_id id = {};
    id.dev = args->dev;
    id.sector = args->sector;
    u64 now = bpf_ktime_get_ns();
    issued_at.update(&id, &now);
    return 0;
}
TRACEPOINT_PROBE(block, block_rq_complete) {
    struct rq_id id = {};
    id.dev = args->dev;
    id.sector = args->sector;
    u64 *start = issued_at.lookup(&id);
    if (!start) return 0;
    u64 usecs = (bpf_ktime_get_ns() - *start) / 1000;
    issued_at.delete(&id);
    int slot = bpf_log2l(usecs);
    if (slot > 63) slot = 63;
    bio_usecs.increment(slot);
    return 0;
}`;

const SYSCALLS = `
struct proc_key { u32 pid; char comm[16]; };
BPF_HASH(syscalls_by_proc, struct proc_key, u64, 10240);
TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    struct proc_key k = {};
    k.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&k.comm, sizeof(k.comm));
    syscalls_by_proc.increment(k);
    return 0;
}`;

function slots(b: BPF, name: string): number[] {
  const out = new Array<number>(64).fill(0);
  for (const [i, v] of b.table(name).entries()) out[Number(i)] = Number(v);
  return out;
}

/** Loads the three programs; a program the kernel refuses leaves its panel empty with the reason. */
export async function startBuiltinSources(opts: { topSyscalls?: boolean } = {}): Promise<LiveSource> {
  const loaded: Record<string, BPF> = {};
  const missing: Record<string, string> = {};
  const programs: [string, string][] = [["runqlat", runqlatProgram()], ["biolatency", BIO]];
  if (opts.topSyscalls !== false) programs.push(["syscalls", SYSCALLS]);
  for (const [panel, text] of programs) {
    try {
      loaded[panel] = await BPF.load({ text });
    } catch (e) {
      missing[panel] = (e as Error)?.message?.split("\n")[0] ?? String(e);
    }
  }
  return {
    provides: Object.keys(loaded),
    missing,
    read() {
      const r: LiveReading = {};
      if (loaded.runqlat) r.runqlat = slots(loaded.runqlat, "runq_usecs");
      if (loaded.biolatency) r.biolatency = slots(loaded.biolatency, "bio_usecs");
      if (loaded.syscalls) {
        r.syscalls = [];
        for (const [k, v] of loaded.syscalls.table("syscalls_by_proc").entries()) {
          r.syscalls.push({ pid: Number(k.pid), comm: String(k.comm), count: Number(v) });
        }
      }
      return r;
    },
    close() {
      for (const b of Object.values(loaded)) b.close();
    },
  };
}
