// The run-queue latency core shared by runqlat (histogram) and runqslower (events): a task's wait starts when it
// is woken (sched_wakeup, sched_wakeup_new) or preempted while runnable (sched_switch with prev still
// TASK_RUNNING), and ends when sched_switch puts it on a CPU. Raw tracepoints give the task_struct pointers, so
// tgid, pid namespace and comm come from the tasks themselves (BTF). `onLatency` is C run with `next`, `delta_ns`
// and `ctx` in scope.

import type { ToolConstants } from "./constants.js";

export const RUNQ_SOURCES = [{ kind: "raw_tracepoint", targets: ["sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_switch"] }] as const;

export function runqProgram(k: ToolConstants, f: { pid?: number; tid?: number }, declarations: string, onLatency: string): string {
  return `
#include <linux/sched.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>

${k.u32("FILTER_PID", f.pid ?? 0)}
${k.u32("FILTER_TID", f.tid ?? 0)}
#define TASK_RUNNING_STATE 0

BPF_HASH(start, u32, u64, 10240);
${declarations}

static int enqueue(struct task_struct *p) {
    u32 tgid = p->tgid, tid = p->pid;
    if (tid == 0) return 0;
    if (FILTER_PID && tgid != FILTER_PID) return 0;
    if (FILTER_TID && tid != FILTER_TID) return 0;
    u64 ts = bpf_ktime_get_ns();
    start.update(&tid, &ts);
    return 0;
}

RAW_TRACEPOINT_PROBE(sched_wakeup) {
    return enqueue((struct task_struct *)ctx->args[0]);
}

RAW_TRACEPOINT_PROBE(sched_wakeup_new) {
    return enqueue((struct task_struct *)ctx->args[0]);
}

RAW_TRACEPOINT_PROBE(sched_switch) {
    struct task_struct *prev = (struct task_struct *)ctx->args[1];
    struct task_struct *next = (struct task_struct *)ctx->args[2];
    if (prev->__state == TASK_RUNNING_STATE) enqueue(prev);
    u32 tid = next->pid;
    u64 *tsp = start.lookup(&tid);
    if (!tsp) return 0;
    u64 delta_ns = bpf_ktime_get_ns() - *tsp;
    start.delete(&tid);
    ${onLatency}
    return 0;
}
`;
}
