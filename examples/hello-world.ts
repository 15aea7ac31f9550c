// Hello, World: the smallest useful BPF program. Every new process or thread goes through clone
// (or clone3, which glibc prefers on recent kernels), so both tracepoints say hello; the kernel
// writes each bpf_trace_printk() to trace_pipe and we copy those lines to stdout.
//
//   node dist/examples/hello-world.js [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { runOptions } from "./lib/run.js";

const { signal } = runOptions();

// TRACEPOINT_PROBE functions attach themselves when the program loads.
const b = await BPF.load({
  text: `
TRACEPOINT_PROBE(syscalls, sys_enter_clone) { bpf_trace_printk("Hello, World!\\n"); return 0; }
TRACEPOINT_PROBE(syscalls, sys_enter_clone3) { bpf_trace_printk("Hello, World!\\n"); return 0; }
`,
});
console.log("Tracing clone()... Ctrl-C to end.");
try {
  // Raw lines, exactly as the kernel formats them (task-pid, cpu, flags, timestamp, message).
  await b.tracePrint(undefined, { signal });
} finally {
  b.close();
}
