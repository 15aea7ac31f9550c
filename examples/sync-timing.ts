// Time between sync() calls: the kernel remembers the previous call's timestamp in a map, so the
// interval is computed where the event happens and only quick repeats (< 1 s) are reported.
// Maps are how BPF programs keep state from one event to the next.
//
//   node dist/examples/sync-timing.js [--duration SECONDS]     (then run `sync; sync` elsewhere)
import { BPF } from "../src/api/bpf.js";
import { runOptions } from "./lib/run.js";

const { signal } = runOptions();

const b = await BPF.load({
  text: `
BPF_HASH(last, u64, u64);

TRACEPOINT_PROBE(syscalls, sys_enter_sync) {
    u64 key = 0, now = bpf_ktime_get_ns();
    u64 *then = last.lookup(&key);
    if (then) {
        u64 delta = now - *then;
        // Only report quick repeats; a lone sync just (re)starts the clock.
        if (delta < 1000000000)
            bpf_trace_printk("multiple syncs detected, last %d ms ago\\n", delta / 1000000);
    }
    last.update(&key, &now);
    return 0;
}
`,
});
console.log("Tracing for quick sync's... Ctrl-C to end.");
try {
  // {4} = timestamp, {5} = message: a BCC-style format string over the parsed fields.
  await b.tracePrint("At time {4} s: {5}", { signal });
} finally {
  b.close();
}
