// Reads of kernel randomness. The classic version of this example used the random:urandom_read
// tracepoint, which no longer exists (the random/ tracepoint category was removed in Linux 5.18 when
// the RNG was rewritten; this kernel has no events/random/). The closest real tracepoint is the
// getrandom(2) syscall entry, which is how most programs (glibc, OpenSSL, Node) ask for random bytes
// today; reads of /dev/urandom go through read(2) and are not distinguished here.
//
//   node dist/examples/urandomread.js [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { runOptions } from "./lib/run.js";

const { signal } = runOptions();

// Tracepoint arguments come from the event's format file: here size_t len and unsigned int flags.
const b = await BPF.load({
  text: `
TRACEPOINT_PROBE(syscalls, sys_enter_getrandom) {
    bpf_trace_printk("getrandom len=%d flags=%d\\n", args->len, args->flags);
    return 0;
}
`,
});
console.log(`${"TIME(s)".padEnd(18)} ${"COMM".padEnd(16)} ${"PID".padEnd(6)} GOTBITS`);
try {
  for await (const f of b.traceFields(signal)) {
    const m = /len=(\d+)/.exec(f.msg);
    if (!m) continue;
    console.log(`${f.ts.toFixed(9).padEnd(18)} ${f.task.padEnd(16)} ${String(f.pid).padEnd(6)} ${Number(m[1]) * 8}`);
  }
} finally {
  b.close();
}
