// Same hello as hello-world.ts, but the trace_pipe lines are split into fields so we can lay them
// out as columns: trace_pipe is shared text, and parsing it is how printk output becomes data.
//
//   node dist/examples/hello-fields.js [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { runOptions } from "./lib/run.js";

const { signal } = runOptions();

// One function, attached by hand to both clone flavours (an explicit alternative to TRACEPOINT_PROBE).
const b = await BPF.load({
  text: `
int hello(void *ctx) {
    bpf_trace_printk("Hello, World!\\n");
    return 0;
}
`,
});
try {
  b.attachTracepoint({ tp: "syscalls:sys_enter_clone", fnName: "hello" });
  b.attachTracepoint({ tp: "syscalls:sys_enter_clone3", fnName: "hello" });
  console.log(`${"TIME(s)".padEnd(18)} ${"COMM".padEnd(16)} ${"PID".padEnd(6)} MESSAGE`);
  for await (const f of b.traceFields(signal)) {
    console.log(`${f.ts.toFixed(9).padEnd(18)} ${f.task.padEnd(16)} ${String(f.pid).padEnd(6)} ${f.msg}`);
  }
} finally {
  b.close();
}
