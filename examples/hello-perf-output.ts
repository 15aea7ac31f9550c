// Structured output: instead of printk text through the shared trace_pipe, each clone sends a C
// struct through a per-CPU perf ring buffer, and user space receives it as an object. This is how
// real tools move per-event data: typed, private to this program, and without parsing text.
//
//   node dist/examples/hello-perf-output.js [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { runOptions, pollUntilAborted } from "./lib/run.js";

const { signal } = runOptions();

const b = await BPF.load({
  text: `
#include <linux/sched.h>

struct data_t {
    u32 pid;
    u64 ts;
    char comm[TASK_COMM_LEN];
};
BPF_PERF_OUTPUT(events);

static int hello(void *ctx) {
    struct data_t data = {};
    data.pid = bpf_get_current_pid_tgid() >> 32;
    data.ts = bpf_ktime_get_ns();
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    events.perf_submit(ctx, &data, sizeof(data));
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_clone) { return hello(args); }
TRACEPOINT_PROBE(syscalls, sys_enter_clone3) { return hello(args); }
`,
});

interface Data { pid: number; ts: bigint | number; comm: string }

let start: bigint | undefined;
try {
  // decode: true turns the raw bytes into an object using the struct's BTF description.
  b.openPerfBuffer("events", (_cpu, ev: Data) => {
    const ts = BigInt(ev.ts);
    start ??= ts;
    const secs = Number(ts - start) / 1e9;
    console.log(`${secs.toFixed(9).padEnd(18)} ${ev.comm.padEnd(16)} ${String(ev.pid).padEnd(6)} Hello, perf_output!`);
  }, { decode: true });
  // The header goes out once the buffer is open: events before that have nowhere to go.
  console.log(`${"TIME(s)".padEnd(18)} ${"COMM".padEnd(16)} ${"PID".padEnd(6)} MESSAGE`);
  await pollUntilAborted(b, signal);
} finally {
  b.close();
}
