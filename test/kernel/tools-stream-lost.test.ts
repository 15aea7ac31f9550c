// Tier 2: an event tool's lost samples are reported on the error output of the tool run that made the stream (the
// in-process runTool's `err`, as the CLI's stderr; found through the run's signal), not on the process's own stderr, which an embedding program
// may use for something else. A 1-page ring takes 2000 events of 256 bytes from a child that nobody reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/index.js";
import { eventStream } from "../../src/tools/lib/stream.js";
import { setRunErr } from "../../src/tools/lib/report-sink.js";
import { pausedChild } from "../helpers/child.js";
import { syscallLoop, requireTool } from "../helpers/build.js";
import { toolSkip } from "../helpers/tool-run.js";

requireTool("gcc", "gcc");
const skip = await toolSkip();

const TEXT = `
struct big_t { u32 pid; char pad[252]; };
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != CHILD) return 0;
    struct big_t ev = {};
    ev.pid = CHILD;
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}`;

test("lost samples of a tool stream go to its run's error output, not the process's stderr", { skip }, async () => {
  const child = pausedChild(syscallLoop("getppid"), ["2000"]);
  const b = await BPF.load({ text: TEXT, cflags: [`-DCHILD=${child.pid}`] });
  const written: string[] = [];
  const ownStderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    ownStderr.push(String(chunk));
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const run = new AbortController(); // a tool run's signal, as runTool registers it
    setRunErr(run.signal, { write: (s: string) => written.push(s) });
    const stream = eventStream<{ pid: number }, number>(b, "events", { kind: "tracepoint", targets: ["syscalls:sys_enter_getppid"], forced: false },
      { pageCnt: 1, duration: 30, signal: run.signal }, (raw) => raw.pid);
    assert.equal(await child.go(), 0);
    let delivered = 0;
    const lostSoFar = (): number => written.map((s) => /^Possibly lost (\d+) samples\n$/.exec(s)).reduce((n, m) => n + Number(m![1]), 0);
    // The stream ends once every event is accounted for (or after 30 s, which fails below).
    const check = setInterval(() => { if (delivered + lostSoFar() >= 2000) stream.close(); }, 20);
    try {
      for await (const pid of stream) {
        assert.equal(pid, child.pid);
        delivered++;
      }
    } finally {
      clearInterval(check);
    }
    const lost = lostSoFar();
    assert.ok(lost > 0, `no loss reported (${delivered} delivered)`);
    assert.equal(delivered + lost, 2000, `${delivered} delivered + ${lost} lost`);
    assert.deepEqual(ownStderr.filter((s) => s.includes("Possibly lost")), []);
  } finally {
    process.stderr.write = write;
    b.close();
  }
});
