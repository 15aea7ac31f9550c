// Counting sync() calls in the kernel: a one-slot array is bumped atomically on each call and read
// from user space at the end. No per-event output crosses to user space, which is why counting in
// a map is the cheap way to measure frequent events.
//
//   node dist/examples/sync-count.js [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { runOptions, untilAborted } from "./lib/run.js";

const { signal } = runOptions();

const b = await BPF.load({
  text: `
BPF_ARRAY(syncs, u64, 1);

TRACEPOINT_PROBE(syscalls, sys_enter_sync) {
    syncs.atomic_increment(0);
    return 0;
}
`,
});
console.log("Counting sync() calls... Ctrl-C to end.");
try {
  await untilAborted(signal);
  // Array slots always exist, so slot 0 reads as 0 when nobody called sync.
  const count = (b.table("syncs").get(0) as bigint | number | undefined) ?? 0;
  console.log(`sync() calls: ${count}`);
} finally {
  b.close();
}
