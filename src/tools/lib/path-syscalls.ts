// The BPF program shared by the tools that report syscalls taking a path (opensnoop, statsnoop, ...): the enter
// tracepoint keeps the path pointer (and flags) per thread, the exit tracepoint reads the path (the user memory
// is resident by then) and submits one event with the result. Each tool lists its syscalls; the ones the chosen
// source lacks are left out.
import type { ChosenSource } from "./source.js";
import { NO_TASK_FILTER_C } from "./task-filters.js";
import type { ToolConstants } from "./constants.js";

export interface PathSyscall {
  /** Syscall name as in syscalls:sys_enter_<name>. */
  name: string;
  /** C expression (on `args`) of the user path pointer. */
  path: string;
  /** C expression of the flags to report (default 0); statements may precede it in `prologue`. */
  flags?: string;
  prologue?: string;
}

export interface PathFilters {
  pid?: number;
  tid?: number;
  uid?: number;
  /** Only calls whose flags have any of these bits. */
  flagFilter?: number;
}

/** The event every path-syscall program submits. */
export interface RawPathEvent {
  ts: bigint;
  pid: number;
  tid: number;
  uid: number;
  ret: number;
  flags: number;
  /** Index into the syscall list given to the program. */
  call: number;
  comm: string;
  path: string;
}

export const PATH_SHOWN = 256;

/** Tracepoint targets (enter and exit per syscall) for a source candidate; `optional` marks them "?". */
export function pathSyscallTargets(calls: readonly PathSyscall[], required: readonly string[]): string[] {
  return calls.flatMap((c) => {
    const q = required.includes(c.name) ? "" : "?";
    return [`syscalls:sys_enter_${c.name}${q}`, `syscalls:sys_exit_${c.name}${q}`];
  });
}

/** `filterC`: the --cgroupmap/--mntnsmap C (./task-filters.ts) of the tools that take them. */
export function pathSyscallProgram(k: ToolConstants, calls: readonly PathSyscall[], f: PathFilters, source: ChosenSource, filterC = NO_TASK_FILTER_C): string {
  const probes = calls.map((c, i) => !source.targets.includes(`syscalls:sys_enter_${c.name}`) ? "" : `
TRACEPOINT_PROBE(syscalls, sys_enter_${c.name}) {
    ${c.prologue ?? ""}
    return remember(${i}, ${c.flags ?? "0"}, (const char *)${c.path});
}
TRACEPOINT_PROBE(syscalls, sys_exit_${c.name}) {
    return report(args, args->ret);
}`).join("\n");
  return `
#include <linux/sched.h>
${filterC}
${k.u32("FILTER_PID", f.pid ?? 0)}
${k.u32("FILTER_TID", f.tid ?? 0)}
${k.s64("FILTER_UID", f.uid ?? -1)}
${k.s32("FILTER_FLAGS", f.flagFilter ?? 0)}

struct pending_t {
    const char *fname;
    int flags;
    int call;
};

struct path_event_t {
    u64 ts;
    u32 pid;
    u32 tid;
    u32 uid;
    int ret;
    int flags;
    int call;
    char comm[TASK_COMM_LEN];
    char path[${PATH_SHOWN}];
};

BPF_HASH(pending, u32, struct pending_t, 10240);
BPF_PERCPU_ARRAY(scratch, struct path_event_t, 1);
BPF_PERF_OUTPUT(events);

static int remember(int call, int flags, const char *fname) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (FILTER_TID && tid != FILTER_TID) return 0;
    if (FILTER_UID >= 0 && (u32)bpf_get_current_uid_gid() != (u32)FILTER_UID) return 0;
    if (FILTER_FLAGS && !(flags & FILTER_FLAGS)) return 0;
    if (tsbcc_task_filtered()) return 0;
    struct pending_t p = {};
    p.fname = fname;
    p.flags = flags;
    p.call = call;
    pending.update(&tid, &p);
    return 0;
}

static int report(void *ctx, long ret) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct pending_t *p = pending.lookup(&tid);
    if (!p) return 0;
    int zero = 0;
    struct path_event_t *ev = scratch.lookup(&zero);
    if (!ev) { pending.delete(&tid); return 0; }
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = tid;
    ev->uid = bpf_get_current_uid_gid();
    ev->ret = ret;
    ev->flags = p->flags;
    ev->call = p->call;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    bpf_probe_read_user_str(&ev->path, sizeof(ev->path), p->fname);
    events.perf_submit(ctx, ev, sizeof(*ev));
    pending.delete(&tid);
    return 0;
}
${probes}
`;
}
