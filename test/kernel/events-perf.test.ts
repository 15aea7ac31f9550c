// Perf buffer reader against the real kernel. The kernel side is a hand-assembled SCHED_CLS program run through
// BPF_PROG_TEST_RUN: each run writes { counter, MAGIC, counter ^ MAGIC } with bpf_perf_event_output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bpf, type Fd, perf } from "../../src/sys/index.js";
import { openPerfBuffer, pollReaders, type PerfBuffer, type PerfEvent } from "../../src/events/index.js";
import { tracepointExists, tracepointId } from "../../src/kernel/tracefs.js";
import { possibleCpus } from "../../src/kernel/cpus.js";
import { ArgumentError } from "../../src/errors.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { cpuMicrosIdle } from "../helpers/cpu.js";
import {
  decodeRecord, eventProgram, loadProgram, processResources, producer, ProgType, readStats, run, runOnCpu, Stat, statsMap,
} from "../helpers/asm.js";

const SAMPLE_SIZE = 28; // 24 bytes submitted; the kernel pads u32 size + data to 8 bytes

interface Rig {
  perfMap: Fd;
  stats: Fd;
  prog: Fd;
  close(): void;
}

function rig(): Rig {
  const perfMap = bpf.mapCreate({ mapType: 4, keySize: 4, valueSize: 4, maxEntries: possibleCpus().length, name: "evt_perf" });
  const stats = statsMap();
  const prog = loadProgram(ProgType.SCHED_CLS, eventProgram(stats.value, { kind: "perf", mapFd: perfMap.value }));
  return { perfMap, stats, prog, close: () => [prog, stats, perfMap].forEach((f) => f.close()) };
}

const canRun = (t: { skip(msg: string): void }): boolean => skipUnlessRoot(t, "bpf, perf_event_open");

interface Got {
  cpu: number;
  size: number;
  counter: bigint;
  magicOk: boolean;
}

function collector(): { got: Got[]; cb: (cpu: number, data: Uint8Array, size: number) => void } {
  const got: Got[] = [];
  return { got, cb: (cpu, data, size) => got.push({ cpu, size, ...decodeRecord(data) }) };
}

/** Counters 1..n exactly once overall, increasing within each CPU. */
function assertComplete(got: Got[], n: number): void {
  assert.equal(got.length, n);
  assert.ok(got.every((g) => g.magicOk && g.size === SAMPLE_SIZE), "every payload intact");
  const sorted = got.map((g) => Number(g.counter)).sort((a, b) => a - b);
  assert.deepEqual(sorted, Array.from({ length: n }, (_, i) => i + 1));
  const last = new Map<number, bigint>();
  for (const g of got) {
    assert.ok(g.counter > (last.get(g.cpu) ?? 0n), `cpu ${g.cpu}: ${g.counter} after ${last.get(g.cpu)}`);
    last.set(g.cpu, g.counter);
  }
}

test("perf buffer: N records produced, N delivered in order with the right payload", (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  const pb = openPerfBuffer(r.perfMap.value, cb, { pageCnt: 64 });
  try {
    assert.deepEqual(pb.cpus, possibleCpus());
    run(r.prog.value, 1000);
    assert.equal(pb.consume(), 1000);
    assertComplete(got, 1000);
    assert.equal(pb.lost, 0);
    assert.equal(pb.consume(), 0);
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: records that wrap around the ring end arrive whole", (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  // 40-byte records in a 4096-byte ring: every ~100th record straddles the end.
  const pb = openPerfBuffer(r.perfMap.value, cb, { pageCnt: 1 });
  try {
    for (let i = 0; i < 40; i++) {
      run(r.prog.value, 50);
      assert.equal(pb.consume(), 50);
    }
    assertComplete(got, 2000);
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: poll resolves on a wakeup, and after the timeout when nothing comes", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  const pb = openPerfBuffer(r.perfMap.value, cb);
  try {
    let t0 = performance.now();
    assert.equal(await pb.poll(60), 0);
    assert.ok(performance.now() - t0 >= 55, "waited for the timeout");
    setTimeout(() => run(r.prog.value, 3), 20);
    t0 = performance.now();
    const n = await pb.poll(5000);
    assert.ok(n >= 1 && performance.now() - t0 < 2000, `woken early with ${n}`);
    await pb.poll(0);
    assertComplete(got, 3);
    assert.equal(await pb.poll(0), 0);
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: wakeupEvents and watermark decide when the kernel wakes us", async (t) => {
  if (!canRun(t)) return;
  for (const opts of [{ wakeupEvents: 4, below: 3, above: 4 }, { watermark: 1024, below: 5, above: 30 }]) {
    const r = rig();
    const { got, cb } = collector();
    const pb = openPerfBuffer(r.perfMap.value, cb, opts);
    try {
      // Below the threshold: no wakeup, so the poll runs into its timeout and only then drains.
      setTimeout(() => run(r.prog.value, opts.below), 10);
      let t0 = performance.now();
      assert.equal(await pb.poll(300), opts.below);
      assert.ok(performance.now() - t0 >= 290, `${JSON.stringify(opts)}: no early wakeup`);
      // At the threshold: woken right away.
      setTimeout(() => run(r.prog.value, opts.above), 10);
      t0 = performance.now();
      assert.equal(await pb.poll(3000), opts.above);
      assert.ok(performance.now() - t0 < 1000, `${JSON.stringify(opts)}: woken at the threshold`);
      assertComplete(got, opts.below + opts.above);
    } finally {
      pb.close();
      r.close();
    }
  }
});

test("perf buffer: with wakeupEvents and maxLatencyMs, records below the threshold arrive within the bound", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  const pb = openPerfBuffer(r.perfMap.value, cb, { wakeupEvents: 64, maxLatencyMs: 40 });
  try {
    // poll(): 3 records, far below 64, end a poll that would otherwise run 3 s into its timeout.
    setTimeout(() => run(r.prog.value, 3), 10);
    let t0 = performance.now();
    assert.equal(await pb.poll(3000), 3);
    const viaPoll = performance.now() - t0;
    assert.ok(viaPoll < 1000, `poll ended after ${viaPoll.toFixed(0)} ms`);
    // watch() (continuous mode): 3 more records, still below the threshold, delivered by the bound alone.
    let resolveDone: () => void;
    const done = new Promise<void>((res) => (resolveDone = res));
    const stop = pb.watch(() => {
      if (got.length === 6) resolveDone();
    });
    await new Promise((res) => setTimeout(res, 20)); // past the watch's first look at the rings
    t0 = performance.now();
    run(r.prog.value, 3);
    await done;
    const viaWatch = performance.now() - t0;
    stop();
    assert.ok(viaWatch < 1000, `records below the threshold arrived after ${viaWatch.toFixed(0)} ms`);
    assertComplete(got, 6);
    t.diagnostic(`below-threshold delivery: poll ${viaPoll.toFixed(1)} ms, watch ${viaWatch.toFixed(1)} ms (bound 40 ms)`);
    // Idle with the bound armed: a timer every 40 ms that reads memory, no spinning.
    const stop2 = pb.watch();
    const cpu = await cpuMicrosIdle(300);
    stop2();
    assert.ok(cpu < 100_000, `${cpu / 1000} ms of CPU while idle`);
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: an idle reader with unread data does not spin the event loop", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  const pb = openPerfBuffer(r.perfMap.value, cb);
  try {
    run(r.prog.value, 10); // wakes the reader, but nobody polls
    const cpu = await cpuMicrosIdle(300);
    assert.ok(cpu < 100_000, `${cpu / 1000} ms of CPU while idle`);
    assert.equal(got.length, 0, "callbacks run only inside poll/consume");
    assert.equal(await pb.poll(1000), 10);
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: overflow — delivered + PERF_RECORD_LOST == produced", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const { got, cb } = collector();
  const lostBy: number[] = [];
  const pb = openPerfBuffer(r.perfMap.value, cb, { pageCnt: 1, lostCb: (_cpu, n) => lostBy.push(n) });
  try {
    run(r.prog.value, 3000);
    pb.consume();
    // The kernel writes the LOST record at the next output that finds room on that CPU: send one on each.
    for (const cpu of pb.cpus) runOnCpu(r.prog.value, cpu);
    await pb.poll(100);
    const produced = Number(readStats(r.stats.value)[Stat.runs]);
    assert.equal(produced, 3000 + pb.cpus.length);
    const lost = lostBy.reduce((a, b) => a + b, 0);
    t.diagnostic(`${produced} produced: ${got.length} delivered, ${lost} lost`);
    assert.ok(lost > 0 && got.length < produced, `lost ${lost}`);
    assert.equal(pb.lost, lost);
    assert.equal(got.length + lost, produced);
    assert.equal(Number(readStats(r.stats.value)[Stat.failed]), lost, "the program saw the same failures");
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: async iterator yields copies and ends on close", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const pb = openPerfBuffer(r.perfMap.value, null);
  try {
    run(r.prog.value, 5);
    const seen: PerfEvent[] = [];
    for await (const ev of pb) {
      seen.push(ev);
      if (seen.length === 5) setTimeout(() => pb.close(), 10);
    }
    assert.equal(seen.length, 5);
    assert.deepEqual(seen.map((e) => (e.kind === "sample" ? decodeRecord(e.data).counter : -1n)), [1n, 2n, 3n, 4n, 5n]);
    assert.ok(seen.every((e) => e.kind === "sample" && e.data.buffer.byteLength === e.data.byteLength), "copies");
  } finally {
    pb.close();
    r.close();
  }
});

test("perf buffer: bad arguments give clear errors", (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const before = processResources();
  try {
    assert.throws(() => openPerfBuffer(r.perfMap.value, null, { pageCnt: 3 }), /power of two/);
    assert.throws(() => openPerfBuffer(r.stats.value, null), /not a BPF_MAP_TYPE_PERF_EVENT_ARRAY/);
    assert.throws(() => openPerfBuffer(r.perfMap.value, null, { watermark: 0 }), /watermark must be a positive integer/);
    for (const maxLatencyMs of [0, -5, Infinity, NaN]) {
      assert.throws(() => openPerfBuffer(r.perfMap.value, null, { wakeupEvents: 8, maxLatencyMs }), (e: Error) =>
        e instanceof ArgumentError && /maxLatencyMs must be a positive number/.test(e.message));
    }
    assert.deepEqual(processResources(), before, "a failed open leaves nothing behind");
  } finally {
    r.close();
  }
});

test("perf buffer: close removes the fds from the map and leaves no fd or mapping behind", (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const before = processResources();
  const pb = openPerfBuffer(r.perfMap.value, () => {});
  const open = processResources();
  assert.equal(open.perfMaps - before.perfMaps, pb.cpus.length);
  assert.equal(open.procFds - before.procFds, pb.resources.fds);
  assert.equal(open.liveFds - before.liveFds, pb.resources.fds);
  pb.close();
  assert.deepEqual(processResources(), before);
  // With the fds gone from the array, bpf_perf_event_output now fails (ENOENT) instead of writing.
  run(r.prog.value, 10);
  assert.equal(readStats(r.stats.value)[Stat.failed], 10n);
  r.close();
});

test("perf buffer: close from inside a callback stops delivery safely", (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const before = processResources();
  let calls = 0;
  const pb: PerfBuffer = openPerfBuffer(r.perfMap.value, () => {
    if (++calls === 3) pb.close();
  });
  run(r.prog.value, 10);
  assert.equal(pb.consume(), 3);
  assert.equal(calls, 3);
  assert.equal(pb.consume(), 0);
  assert.deepEqual(processResources(), before);
  r.close();
});

test("perf buffer: closing while events flow leaves no fd and no mapping", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  const p = await producer(r.prog.value, 200);
  const before = processResources(); // after the worker started: it has fds of its own
  let delivered = 0;
  const pb = openPerfBuffer(r.perfMap.value, () => void delivered++, { pageCnt: 16, lostCb: () => {} });
  try {
    while (delivered < 20000) await pb.poll(1000);
    pb.close();
    const afterClose = processResources();
    await new Promise((res) => setTimeout(res, 50)); // the producer keeps going against the emptied map
    const runs = await p.stop();
    assert.ok(runs > delivered, `${runs} runs, ${delivered} delivered`);
    assert.deepEqual(afterClose, before);
  } finally {
    pb.close();
    await p.stop().catch(() => 0);
    r.close();
  }
});

test("perf buffer: concurrent producer — delivered + lost == produced", async (t) => {
  if (!canRun(t)) return;
  const r = rig();
  let delivered = 0;
  const pb = openPerfBuffer(r.perfMap.value, () => void delivered++, { pageCnt: 8, lostCb: () => {} });
  const p = await producer(r.prog.value, 100);
  try {
    const t0 = performance.now();
    while (performance.now() - t0 < 500) await pb.poll(100);
    const runs = await p.stop();
    for (const cpu of pb.cpus) runOnCpu(r.prog.value, cpu); // flush pending LOST records
    await pb.poll(100);
    while (pb.consume() > 0);
    t.diagnostic(`${runs} runs: ${delivered} delivered, ${pb.lost} lost`);
    assert.equal(delivered + pb.lost, runs + pb.cpus.length);
    assert.equal(Number(readStats(r.stats.value)[Stat.failed]), pb.lost);
  } finally {
    pb.close();
    await p.stop().catch(() => 0);
    r.close();
  }
});

test("perf buffer: pollReaders wakes on any of several readers", async (t) => {
  if (!canRun(t)) return;
  const a = rig(), b = rig();
  const gotA = collector(), gotB = collector();
  const ra = openPerfBuffer(a.perfMap.value, gotA.cb), rb = openPerfBuffer(b.perfMap.value, gotB.cb);
  try {
    setTimeout(() => run(b.prog.value, 2), 20);
    const t0 = performance.now();
    assert.equal(await pollReaders([ra, rb], 5000), 2);
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(gotA.got.length, 0);
    assertComplete(gotB.got, 2);
    assert.equal(await pollReaders([ra, rb], 30), 0);
  } finally {
    ra.close();
    rb.close();
    a.close();
    b.close();
  }
});

test("perf buffer: a real tracepoint (sys_enter_getppid) filtered on our pid", async (t) => {
  if (!canRun(t)) return;
  if (!tracepointExists("syscalls", "sys_enter_getppid")) {
    t.skip("no syscalls:sys_enter_getppid tracepoint (CONFIG_FTRACE_SYSCALLS off)");
    return;
  }
  const perfMap = bpf.mapCreate({ mapType: 4, keySize: 4, valueSize: 4, maxEntries: possibleCpus().length, name: "evt_tp" });
  const stats = statsMap();
  const prog = loadProgram(ProgType.TRACEPOINT, eventProgram(stats.value, { kind: "perf", mapFd: perfMap.value }, process.pid));
  const ev = perf.perfEventOpen({ type: perf.PerfType.TRACEPOINT, config: tracepointId("syscalls", "sys_enter_getppid"),
    samplePeriod: 1, wakeupEvents: 1 }, -1, 0, "tracepoint syscalls:sys_enter_getppid");
  const { got, cb } = collector();
  const pb = openPerfBuffer(perfMap.value, cb);
  try {
    perf.perfSetBpf(ev.value, prog.value);
    perf.perfEnable(ev.value);
    let sum = 0;
    for (let i = 0; i < 500; i++) sum += process.ppid; // each read is one getppid()
    assert.ok(sum > 0);
    await pb.poll(1000);
    while (pb.consume() > 0);
    const runs = Number(readStats(stats.value)[Stat.runs]);
    assert.ok(runs >= 500, `${runs} getppid calls seen`);
    assertComplete(got, runs);
  } finally {
    pb.close();
    ev.close();
    prog.close();
    stats.close();
    perfMap.close();
  }
});
