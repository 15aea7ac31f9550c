// Ring buffer reader against the real kernel. Hand-assembled SOCKET_FILTER programs run through
// BPF_PROG_TEST_RUN write { counter, MAGIC, counter ^ MAGIC } with bpf_ringbuf_output or reserve/submit/discard,
// and count failed outputs in a stats map (the drop counter the dialect compiler will emit).
import { test } from "node:test";
import assert from "node:assert/strict";
import { bpf, type Fd } from "../../src/sys/index.js";
import { openRingBuffer, pollReaders, RingBufferManager } from "../../src/events/index.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { cpuMicrosDuring, cpuMicrosIdle } from "../helpers/cpu.js";
import {
  decodeRecord, eventProgram, loadProgram, type Output, processResources, producer, ProgType, readStats, RECORD_SIZE,
  run, Stat, statsMap,
} from "../helpers/asm.js";

const PAGE = 4096;
const BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2;

interface Rig {
  ring: Fd;
  stats: Fd;
  prog: Fd;
  close(): void;
}

function rig(size: number, out: (mapFd: number) => Output = (mapFd) => ({ kind: "ringbuf-output", mapFd })): Rig {
  const ring = bpf.mapCreate({ mapType: 27, keySize: 0, valueSize: 0, maxEntries: size, name: "evt_ring" });
  const stats = statsMap();
  const prog = loadProgram(ProgType.SOCKET_FILTER, eventProgram(stats.value, out(ring.value)));
  return { ring, stats, prog, close: () => [prog, stats, ring].forEach((f) => f.close()) };
}

const canRun = (t: { skip(msg: string): void }): boolean => skipUnlessRoot(t, "bpf");

function collector(): { counters: bigint[]; sizes: number[]; bad: number; cb: (data: Uint8Array, size: number) => void } {
  const c = {
    counters: [] as bigint[], sizes: [] as number[], bad: 0,
    cb: (data: Uint8Array, size: number) => {
      const d = decodeRecord(data);
      if (!d.magicOk || data.byteLength !== size) c.bad++;
      c.counters.push(d.counter);
      c.sizes.push(size);
    },
  };
  return c;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

test("ring buffer: N records produced, N delivered in order with the right payload", (t) => {
  if (!canRun(t)) return;
  const r = rig(64 * PAGE);
  const c = collector();
  const m = openRingBuffer(r.ring.value, c.cb);
  try {
    run(r.prog.value, 1000);
    assert.equal(m.consume(), 1000);
    assert.deepEqual(c.counters, range(1, 1000));
    assert.ok(c.sizes.every((s) => s === RECORD_SIZE));
    assert.equal(c.bad, 0);
    assert.equal(m.consume(), 0);
    // Many laps around a one-page ring: records straddle the end and still arrive whole (double mapping).
    const small = rig(PAGE);
    const c2 = collector();
    const m2 = openRingBuffer(small.ring.value, c2.cb);
    for (let i = 0; i < 50; i++) {
      run(small.prog.value, 37);
      assert.equal(m2.consume(), 37);
    }
    assert.deepEqual(c2.counters, range(1, 50 * 37));
    assert.equal(c2.bad, 0);
    m2.close();
    small.close();
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: discarded records never reach the callback", (t) => {
  if (!canRun(t)) return;
  const r = rig(16 * PAGE, (mapFd) => ({ kind: "ringbuf-reserve", mapFd }));
  const c = collector();
  const m = openRingBuffer(r.ring.value, c.cb);
  try {
    run(r.prog.value, 100);
    assert.equal(m.consume(), 50);
    assert.deepEqual(c.counters, range(1, 100).filter((n) => n % 2n === 0n));
    assert.equal(c.bad, 0);
    assert.equal(readStats(r.stats.value)[Stat.failed], 0n);
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: bpf_ringbuf_query agrees with what the reader consumed", (t) => {
  if (!canRun(t)) return;
  const size = 8 * PAGE;
  const r = rig(size, (mapFd) => ({ kind: "ringbuf-query", mapFd }));
  const c = collector();
  const m = openRingBuffer(r.ring.value, c.cb);
  const rec = (RECORD_SIZE + 8 + 7) & ~7; // header + data, 8-byte aligned
  try {
    run(r.prog.value, 10);
    let s = readStats(r.stats.value);
    assert.equal(s[Stat.queryRingSize], BigInt(size));
    assert.equal(s[Stat.queryAvail], BigInt(10 * rec), "nothing consumed yet");
    assert.equal(s[Stat.queryCons], 0n);
    assert.equal(s[Stat.queryProd], BigInt(10 * rec));
    assert.equal(m.consume(), 10);
    run(r.prog.value, 1);
    s = readStats(r.stats.value);
    assert.equal(s[Stat.queryCons], BigInt(10 * rec), "the kernel sees our consumer position");
    assert.equal(s[Stat.queryProd], BigInt(11 * rec));
    assert.equal(s[Stat.queryAvail], BigInt(rec));
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: overflow — delivered + failed outputs == produced, reported through lostCount", (t) => {
  if (!canRun(t)) return;
  const r = rig(PAGE);
  const c = collector();
  const deltas: number[] = [];
  const m = new RingBufferManager({ lostCheckIntervalMs: 0 });
  m.add(r.ring.value, c.cb, { lostCount: () => readStats(r.stats.value)[Stat.failed]!, lostCb: (n) => deltas.push(n) });
  try {
    run(r.prog.value, 1000);
    const delivered = m.consume();
    const failed = Number(readStats(r.stats.value)[Stat.failed]);
    t.diagnostic(`1000 produced: ${delivered} delivered, ${failed} failed`);
    // The kernel keeps producer - consumer <= size - 1, so a 4096-byte ring holds 127 records of 32 bytes.
    assert.equal(delivered, Math.floor((PAGE - 1) / 32));
    assert.equal(delivered + failed, 1000);
    assert.deepEqual(deltas, [failed]);
    assert.equal(m.lost, failed);
    run(r.prog.value, 10); // fits now: no new losses, no new report
    assert.equal(m.consume(), 10);
    assert.deepEqual(deltas, [failed]);
    assert.deepEqual(c.counters, [...range(1, delivered), ...range(1001, 1010)]);
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: unread data does not spin the event loop (idle, or after a callback stopped the drain)", async (t) => {
  if (!canRun(t)) return;
  const r = rig(16 * PAGE);
  let calls = 0;
  const m = openRingBuffer(r.ring.value, () => (++calls === 1 ? -1 : 0));
  try {
    run(r.prog.value, 10); // wakes the manager, but nobody polls
    const idle = await cpuMicrosIdle(300);
    assert.ok(idle < 100_000, `${idle / 1000} ms of CPU while idle`);
    assert.equal(calls, 0);
    assert.equal(await m.poll(1000), -1, "the callback stopped after one record");
    // 9 records still unread; a poll that waits must not spin on them either: it finds them first.
    let waiting: Promise<number> | undefined;
    const cpu = await cpuMicrosDuring(async () => {
      assert.equal(await m.poll(1000), 9);
      waiting = m.poll(300);
      await new Promise((res) => setTimeout(res, 300));
    });
    assert.equal(await waiting, 0);
    assert.ok(cpu < 100_000, `${cpu / 1000} ms of CPU while waiting`);
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: a negative callback return stops draining; the rest comes next time", (t) => {
  if (!canRun(t)) return;
  const r = rig(16 * PAGE);
  const seen: bigint[] = [];
  const m = openRingBuffer(r.ring.value, (data) => {
    seen.push(decodeRecord(data).counter);
    return seen.length === 3 ? -7 : 0;
  });
  try {
    run(r.prog.value, 10);
    assert.equal(m.consume(), -7);
    assert.deepEqual(seen, range(1, 3));
    assert.equal(m.consume(), 7);
    assert.deepEqual(seen, range(1, 10));
  } finally {
    m.close();
    r.close();
  }
});

test("ring buffer: views are only valid in the callback; copy: true hands out owned bytes", (t) => {
  if (!canRun(t)) return;
  const r = rig(PAGE);
  const views: Uint8Array[] = [], copies: Uint8Array[] = [];
  const m = new RingBufferManager();
  const r2 = rig(PAGE);
  m.add(r.ring.value, (d) => void views.push(d)).add(r2.ring.value, (d) => void copies.push(d), { copy: true });
  try {
    run(r.prog.value, 1);
    run(r2.prog.value, 1);
    assert.equal(m.consume(), 2);
    assert.equal(views[0]!.buffer.byteLength, PAGE + 2 * PAGE, "a view over the mapped ring");
    assert.equal(copies[0]!.buffer.byteLength, RECORD_SIZE, "a copy of its own");
    assert.equal(decodeRecord(copies[0]!).counter, 1n);
  } finally {
    m.close();
    r.close();
    r2.close();
  }
});

test("ring buffer: one manager polls several rings; wakeups honour BPF_RB_* flags", async (t) => {
  if (!canRun(t)) return;
  const a = rig(4 * PAGE);
  const quiet = rig(4 * PAGE, (mapFd) => ({ kind: "ringbuf-output", mapFd, flags: BPF_RB_NO_WAKEUP }));
  const loud = rig(4 * PAGE, (mapFd) => ({ kind: "ringbuf-output", mapFd, flags: BPF_RB_FORCE_WAKEUP }));
  const got = { a: 0, quiet: 0, loud: 0 };
  const m = new RingBufferManager()
    .add(a.ring.value, () => void got.a++)
    .add(quiet.ring.value, () => void got.quiet++)
    .add(loud.ring.value, () => void got.loud++);
  try {
    const empty = new RingBufferManager();
    await assert.rejects(empty.poll(10), /no ring buffers/);
    assert.throws(() => empty.add(a.stats.value, () => {}), /not a BPF_MAP_TYPE_RINGBUF/);
    assert.throws(() => m.add(a.ring.value, () => {}), /already added/);
    empty.close();
    let t0 = performance.now();
    assert.equal(await m.poll(50), 0);
    assert.ok(performance.now() - t0 >= 45);
    setTimeout(() => run(a.prog.value, 2), 20);
    t0 = performance.now();
    assert.equal(await m.poll(5000), 2);
    assert.ok(performance.now() - t0 < 2000, "woken by the default (adaptive) notification");
    setTimeout(() => run(quiet.prog.value, 3), 20);
    t0 = performance.now();
    assert.equal(await m.poll(300), 3);
    assert.ok(performance.now() - t0 >= 290, "BPF_RB_NO_WAKEUP: found only at the timeout");
    setTimeout(() => run(loud.prog.value, 4), 20);
    t0 = performance.now();
    assert.equal(await m.poll(5000), 4);
    assert.ok(performance.now() - t0 < 2000, "BPF_RB_FORCE_WAKEUP");
    assert.deepEqual(got, { a: 2, quiet: 3, loud: 4 });
    setTimeout(() => run(a.prog.value, 1), 20);
    assert.equal(await pollReaders([m], 5000), 1);
  } finally {
    m.close();
    [a, quiet, loud].forEach((x) => x.close());
  }
});

test("ring buffer: concurrent producer — delivered + failed outputs == produced, in order", async (t) => {
  if (!canRun(t)) return;
  const r = rig(16 * PAGE);
  let delivered = 0, bad = 0, last = 0n;
  const m = openRingBuffer(r.ring.value, (d) => {
    delivered++;
    const x = decodeRecord(d);
    if (!x.magicOk || x.counter <= last) bad++;
    last = x.counter;
  });
  const p = await producer(r.prog.value, 500);
  try {
    const t0 = performance.now();
    while (performance.now() - t0 < 500) await m.poll(100);
    const runs = await p.stop();
    while (m.consume() > 0);
    const failed = Number(readStats(r.stats.value)[Stat.failed]);
    t.diagnostic(`${runs} runs: ${delivered} delivered, ${failed} failed`);
    assert.equal(bad, 0);
    assert.equal(Number(readStats(r.stats.value)[Stat.runs]), runs);
    assert.ok(delivered > 0);
    assert.equal(delivered + failed, runs);
  } finally {
    await p.stop().catch(() => 0);
    m.close();
    r.close();
  }
});

test("ring buffer: close (also mid-drain and while events flow) leaves no fd and no mapping", async (t) => {
  if (!canRun(t)) return;
  const r = rig(16 * PAGE);
  const p = await producer(r.prog.value, 200);
  const before = processResources();
  try {
    const m = openRingBuffer(r.ring.value, () => {}, { lostCount: () => readStats(r.stats.value)[Stat.failed]!, lostCb: () => {} });
    assert.equal(processResources().bpfMaps - before.bpfMaps, m.resources.mappings);
    assert.equal(processResources().procFds - before.procFds, m.resources.fds);
    for (let i = 0; i < 20; i++) await m.poll(100);
    m.close();
    assert.deepEqual(processResources(), before);
    let calls = 0;
    const m2: RingBufferManager = openRingBuffer(r.ring.value, () => {
      if (++calls === 5) m2.close();
    });
    for (let i = 0; i < 100 && !m2.closed; i++) await m2.poll(100).catch(() => 0);
    assert.equal(calls, 5);
    assert.deepEqual(processResources(), before);
  } finally {
    await p.stop();
    r.close();
  }
});
