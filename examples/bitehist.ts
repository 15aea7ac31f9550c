// Block I/O size histogram: the kernel buckets every request issued to a disk by log2(size in KiB),
// and we print the distribution once at the end. Summarising in kernel keeps the cost per I/O tiny,
// and the shape (many 4 KiB requests? a few 1 MiB ones?) says more than an average would.
//
//   node dist/examples/bitehist.js [--duration SECONDS]     (prints when stopped)
import { BPF } from "../src/api/bpf.js";
import { runOptions, untilAborted } from "./lib/run.js";

const { signal } = runOptions();

// block_rq_issue fires when a request is handed to the device driver; args->bytes is its size.
const b = await BPF.load({
  text: `
BPF_HISTOGRAM(dist);

TRACEPOINT_PROBE(block, block_rq_issue) {
    dist.increment(bpf_log2l(args->bytes / 1024));
    return 0;
}
`,
});
console.log("Tracing block I/O... Hit Ctrl-C to end.");
try {
  await untilAborted(signal);
  console.log();
  b.table("dist").printLog2Hist("kbytes");
} finally {
  b.close();
}
