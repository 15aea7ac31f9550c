// The program the startup benchmark loads, in BCC's dialect, identical for tsbcc and BCC.
export const SNOOPER = `
#include <linux/sched.h>
struct data_t { u32 pid; u32 ppid; char comm[TASK_COMM_LEN]; };
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_execve) {
    struct data_t data = {};
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    data.pid = bpf_get_current_pid_tgid() >> 32;
    data.ppid = t->real_parent->tgid;
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    events.perf_submit(args, &data, sizeof(data));
    return 0;
}
`;
