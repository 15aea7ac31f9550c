// Who hands the CPU to whom: every context switch bumps a counter keyed by the (previous, next) pid
// pair. A struct key lets one map hold a two-dimensional count; the busiest pairs show which tasks
// ping-pong (e.g. a producer waking its consumer).
//
//   node dist/examples/task-switch.js [--duration SECONDS] [--top N]
import { BPF } from "../src/api/bpf.js";
import { runOptions, untilAborted } from "./lib/run.js";

const { signal } = runOptions();
const topArg = process.argv.indexOf("--top");
const top = topArg > 0 ? Number(process.argv[topArg + 1]) : 10;

const b = await BPF.load({
  text: `
struct key_t {
    u32 prev_pid;
    u32 next_pid;
};
BPF_HASH(stats, struct key_t, u64, 4096);

TRACEPOINT_PROBE(sched, sched_switch) {
    struct key_t key = {};
    key.prev_pid = args->prev_pid;
    key.next_pid = args->next_pid;
    stats.atomic_increment(key);
    return 0;
}
`,
});
console.log("Counting context switches... Ctrl-C to end.");
try {
  await untilAborted(signal);
  const rows: Array<[{ prev_pid: number; next_pid: number }, number]> = [];
  for (const [k, v] of b.table("stats") as Iterable<[any, bigint | number]>) rows.push([k, Number(v)]);
  rows.sort((x, y) => y[1] - x[1]);
  console.log(`${"PREV_PID".padStart(8)} ${"NEXT_PID".padStart(8)} ${"COUNT".padStart(10)}`);
  for (const [k, n] of rows.slice(0, top)) {
    console.log(`${String(k.prev_pid).padStart(8)} ${String(k.next_pid).padStart(8)} ${String(n).padStart(10)}`);
  }
  console.log(`${rows.length} distinct pairs`);
} finally {
  b.close();
}
