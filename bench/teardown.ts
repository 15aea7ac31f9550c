// Teardown benchmark (`npm run bench:teardown`, as root): closing a BPF object with 50 attached tracepoints.
//
// The kernel waits for an RCU grace period on every tracepoint detach (tens of ms each). close() does them one
// after another on the event loop, which stalls for the whole teardown; closeAsync() closes the perf events on
// libuv's thread pool, so the waits overlap and the loop keeps running. Measured for each: the total teardown time
// and the event loop's longest stall (the largest gap between ticks of a 1 ms interval timer). BCC's cleanup()
// (python3-bpfcc) on the same 50 tracepoints runs in the same job when BCC can compile here. Stalls of a few ms
// during closeAsync() are the machine's scheduling (other processes on the cores), not tsbcc: its own synchronous
// part is the "call returns after" figure.
import { spawnSync } from "node:child_process";
import { BPF } from "../src/api/bpf.js";

const COUNT = 50;
const RUNS = 3;
const TEXT = "int on_enter(void *ctx) { return 0; }";

interface Run { totalMs: number; maxStallMs: number; callMs: number }

/** A 1 ms interval timer recording the largest gap between its ticks. */
function stallMeter(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const t = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(t);
      return Math.max(max, performance.now() - last);
    },
  };
}

async function attached(): Promise<BPF> {
  const tps = BPF.getTracepoints("syscalls:sys_enter_").slice(0, COUNT);
  if (tps.length < COUNT) throw new Error(`only ${tps.length} syscalls:sys_enter_* tracepoints here`);
  const b = await BPF.load({ text: TEXT, autoload: false });
  for (const tp of tps) b.attachTracepoint({ tp, fnName: "on_enter" });
  return b;
}

async function measure(mode: "sync" | "async"): Promise<Run> {
  const b = await attached();
  await new Promise((r) => setTimeout(r, 20)); // let the meter start from a quiet loop
  const meter = stallMeter();
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const done = mode === "sync" ? b.close() : b.closeAsync();
  const callMs = performance.now() - t0; // the part that runs on the loop before the call returns
  await done;
  const totalMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5));
  return { totalMs, callMs, maxStallMs: meter.stop() };
}

const PY = `
import sys, time, json
from bcc import BPF
n = int(sys.argv[1])
b = BPF(text="int on_enter(void *ctx) { return 0; }")
tps = [l.strip() for l in open("/sys/kernel/tracing/available_events") if l.startswith("syscalls:sys_enter_")][:n]
for tp in tps:
    b.attach_tracepoint(tp=tp, fn_name="on_enter")
t0 = time.perf_counter()
b.cleanup()
print(json.dumps({"totalMs": (time.perf_counter() - t0) * 1000}))
`;

function bcc(): string {
  const r = spawnSync("/usr/bin/python3", ["-c", PY, String(COUNT)], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) return `unavailable (${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`;
  return `${(JSON.parse(r.stdout) as { totalMs: number }).totalMs.toFixed(0)} ms (cleanup(), sequential, blocks its thread)`;
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, Run[]> = { sync: [], async: [] };
for (let i = 0; i < RUNS; i++) for (const mode of ["sync", "async"] as const) results[mode]!.push(await measure(mode));
console.log(`Teardown of ${COUNT} attached tracepoints, median of ${RUNS} runs`);
for (const mode of ["sync", "async"] as const) {
  const rs = results[mode]!;
  console.log(`  ${mode === "sync" ? "close()     " : "closeAsync()"}  total ${med(rs.map((r) => r.totalMs)).toFixed(0).padStart(5)} ms   ` +
    `call returns after ${med(rs.map((r) => r.callMs)).toFixed(1).padStart(7)} ms   ` +
    `longest event-loop stall ${med(rs.map((r) => r.maxStallMs)).toFixed(1).padStart(7)} ms`);
}
console.log(`  BCC ${bcc()}`);
