// Tier 2: event streams through the BPF class, from BCC C: exact accounting under overflow for both buffer types
// (ring buffer drops come from the counter the dialect compiler emits), discarded ring records, ringbuf_query,
// and the async iterator b.events().
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/api/bpf.js";
import { syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { missing } from "../helpers/root.js";
import { SEQ_START } from "../helpers/bcc-snippets.js";

const skip = missing("clang", "gcc", "root");

/** The traced child: pinned to CPU 0 so that every perf record (and a pending lost count) is on one ring. */
function child(n: number) {
  return pausedChild("taskset", ["-c", "0", syscallLoop("getppid"), String(n)]);
}

/** Filter on the pid in `target[0]`, number the calls in `seqs[0]`. */
const START = SEQ_START;
const PRELUDE = `
struct ev_t { u64 seq; u32 pid; u32 tag; u64 x; };
BPF_ARRAY(seqs, u64, 1);
BPF_ARRAY(target, u32, 1);
`;

/** Runs the child while polling with `poll`, then drains what is left with `consume`. */
async function runWhilePolling(c: ReturnType<typeof child>, poll: () => Promise<number>, consume: () => number): Promise<void> {
  let exited = false;
  const done = c.go().then((code) => {
    exited = true;
    return code;
  });
  while (!exited) await poll();
  assert.equal(await done, 0);
  while (consume() > 0);
}

test("ring buffer overflow: delivered + dropped (counted by the program) == produced, for output and reserve", { skip }, async () => {
  const N = 20000;
  const b = await BPF.load({
    text: PRELUDE + `
BPF_RINGBUF_OUTPUT(events, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
${START}
    if (seq & 1) {
        struct ev_t *e = events.ringbuf_reserve(sizeof(*e));
        if (!e) return 0;
        e->seq = seq; e->pid = pid; e->tag = 1; e->x = 0;
        events.ringbuf_submit(e, 0);
    } else {
        struct ev_t d = {};
        d.seq = seq; d.pid = pid; d.tag = 2;
        events.ringbuf_output(&d, sizeof(d), 0);
    }
    return 0;
}`,
  });
  try {
    const seqs: bigint[] = [];
    let reported = 0, bad = 0;
    b.openRingBuffer("events", (_ctx, ev: { seq: bigint; pid: number; tag: number }) => {
      seqs.push(ev.seq);
      if (ev.tag !== (ev.seq & 1n ? 1 : 2)) bad++;
    }, { decode: true, lostCb: (n) => (reported += n) });
    const c = child(N);
    b.table("target").set(0, c.pid);
    await runWhilePolling(c, () => b.ringBufferPoll(20), () => b.ringBufferConsume());
    const dropped = b.ringBufferLost();
    assert.equal(dropped, reported, "lostCb saw every increase");
    assert.equal(seqs.length + dropped, N, `delivered ${seqs.length} + dropped ${dropped}`);
    assert.ok(dropped > 0, "a one-page ring under a burst drops records");
    assert.ok(seqs.length > 0);
    assert.equal(bad, 0);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, "in order");
    assert.ok(seqs.every((s) => s < BigInt(N)));
    // Both paths were counted: reserve failures (odd seqs missing) and output failures (even ones).
    const have = new Set(seqs);
    let oddMissing = 0, evenMissing = 0;
    for (let i = 0n; i < BigInt(N); i++) if (!have.has(i)) i & 1n ? oddMissing++ : evenMissing++;
    assert.ok(oddMissing > 0 && evenMissing > 0, `odd ${oddMissing} even ${evenMissing}`);
    // Hidden counter maps stay out of the table listing.
    assert.throws(() => b.table("nope"), (e: Error) => !e.message.includes("__tsbcc_drops_"));
  } finally {
    b.close();
  }
});

test("ring buffer: discarded records never reach the callback; ringbuf_query sizes are exact", { skip }, async () => {
  const N = 300, PAGES = 16;
  const b = await BPF.load({
    text: PRELUDE + `
struct q_t { u64 seq; u64 avail; u64 size; u64 prod; };
BPF_RINGBUF_OUTPUT(events, ${PAGES});
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
${START}
    u64 avail = events.ringbuf_query(0);  /* BPF_RB_AVAIL_DATA */
    u64 size = events.ringbuf_query(1);   /* BPF_RB_RING_SIZE */
    u64 prod = events.ringbuf_query(3);   /* BPF_RB_PROD_POS */
    struct q_t *e = events.ringbuf_reserve(sizeof(*e));
    if (!e) return 0;
    e->seq = seq; e->avail = avail; e->size = size; e->prod = prod;
    if (seq % 3 == 0) events.ringbuf_discard(e, 0);
    else events.ringbuf_submit(e, 0);
    return 0;
}`,
  });
  try {
    const got: { seq: bigint; avail: bigint; size: bigint; prod: bigint }[] = [];
    b.openRingBuffer("events", (_ctx, ev: { seq: bigint; avail: bigint; size: bigint; prod: bigint }) => void got.push(ev), { decode: true, lostCb: () => assert.fail("nothing is dropped") });
    const c = child(N);
    b.table("target").set(0, c.pid);
    // Nothing is consumed during the burst, so every query sees all earlier records (discarded ones included).
    assert.equal(await c.go(), 0);
    assert.equal(b.ringBufferConsume(), N - N / 3);
    assert.equal(got.length, N - N / 3);
    const REC = 8n + 32n; // header + struct q_t
    got.forEach((ev, i) => {
      assert.notEqual(ev.seq % 3n, 0n, "a discarded record was delivered");
      assert.equal(ev.seq, BigInt(Math.floor(i / 2) * 3 + (i % 2) + 1));
      assert.equal(ev.size, BigInt(PAGES * 4096));
      assert.equal(ev.avail, ev.seq * REC);
      assert.equal(ev.prod, ev.seq * REC);
    });
    assert.equal(b.ringBufferLost(), 0);
  } finally {
    b.close();
  }
});

test("perf buffer overflow: delivered + lost (PERF_RECORD_LOST via lostCb) == produced", { skip }, async () => {
  const N = 20000;
  const b = await BPF.load({
    text: PRELUDE + `
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
${START}
    struct ev_t d = {};
    d.seq = seq; d.pid = pid;
    events.perf_submit(args, &d, sizeof(d));
    return 0;
}`,
  });
  try {
    const byPid = new Map<number, bigint[]>();
    let lost = 0;
    b.openPerfBuffer("events", (_cpu, ev: { seq: bigint; pid: number }) => {
      const l = byPid.get(ev.pid) ?? [];
      l.push(ev.seq);
      byPid.set(ev.pid, l);
    }, { decode: true, pageCnt: 1, lostCb: (n) => (lost += n) });
    const c = child(N);
    b.table("target").set(0, c.pid);
    await runWhilePolling(c, () => b.perfBufferPoll(20), () => b.perfBufferConsume());
    // The kernel writes a pending lost count just before the next sample that fits: one more event on CPU 0.
    const flush = child(1);
    b.table("target").set(0, flush.pid);
    assert.equal(await flush.go(), 0);
    while (b.perfBufferConsume() > 0);
    const seqs = byPid.get(c.pid) ?? [];
    assert.equal(byPid.get(flush.pid)?.length, 1);
    assert.equal(seqs.length + lost, N, `delivered ${seqs.length} + lost ${lost}`);
    assert.ok(lost > 0, "a one-page perf ring under a burst loses records");
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, "in order");
  } finally {
    b.close();
  }
});

test("b.events(): async iteration over perf and ring events, decoded or raw; break and abort release the reader", { skip }, async (t) => {
  const N = 200;
  const b = await BPF.load({
    text: PRELUDE + `
BPF_PERF_OUTPUT(pevents);
BPF_RINGBUF_OUTPUT(revents, 8);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
${START}
    struct ev_t d = {};
    d.seq = seq; d.pid = pid; d.tag = 7; d.x = seq * 10;
    pevents.perf_submit(args, &d, sizeof(d));
    revents.ringbuf_output(&d, sizeof(d), 0);
    return 0;
}`,
  });
  try {
    const c = child(N);
    b.table("target").set(0, c.pid);
    // A deadline instead of a hang if events went missing (the loops then end early and the asserts say so). A plain
    // timer, not AbortSignal.timeout: Node 20 keeps that signal only weakly once nothing listens to it.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), 30_000);
    t.after(() => clearTimeout(timer));
    const signal = deadline.signal;
    let lost = 0;
    const perf = b.events<{ seq: bigint; pid: number; tag: number; x: bigint }>("pevents", { signal, lostCb: (n) => (lost += n) });
    const ring = b.events<Uint8Array>("revents", { decode: false, signal, lostCb: (n) => (lost += n) });
    assert.throws(() => b.openRingBuffer("revents", () => {}), /already open/);
    const go = c.go();
    const decoded: { seq: bigint; pid: number; tag: number; x: bigint }[] = [];
    for await (const ev of perf) {
      decoded.push(ev);
      if (decoded.length === N) break;
    }
    const raw: Uint8Array[] = [];
    for await (const data of ring) {
      raw.push(data);
      if (raw.length === N) break;
    }
    assert.equal(await go, 0);
    const ran = b.table("seqs").get(0);
    assert.ok(decoded.length === N && raw.length === N,
      `perf ${decoded.length}, ring ${raw.length} of ${N}; program ran ${ran} times`);
    assert.equal(lost, 0);
    assert.deepEqual(decoded.map((e) => e.seq), Array.from({ length: N }, (_, i) => BigInt(i)));
    assert.ok(decoded.every((e) => e.pid === c.pid && e.tag === 7 && e.x === e.seq * 10n));
    // Raw ring records are copies that outlive the callback.
    raw.forEach((d, i) => {
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      assert.equal(d.byteLength, 24);
      assert.equal(v.getBigUint64(0, true), BigInt(i));
      assert.equal(v.getBigUint64(16, true), BigInt(i) * 10n);
    });
    // Breaking out closed both readers: the maps can be opened again.
    b.openPerfBuffer("pevents", () => {});
    b.openRingBuffer("revents", () => {});
    assert.equal(b.perfBufferConsume(), 0);
    assert.equal(b.ringBufferConsume(), 0);
  } finally {
    b.close();
  }
  // An abort ends a waiting iteration quietly.
  const b2 = await BPF.load({ text: PRELUDE + `BPF_RINGBUF_OUTPUT(r2, 1);\nTRACEPOINT_PROBE(syscalls, sys_enter_getppid) { ${START} r2.ringbuf_output(&seq, sizeof(seq), 0); return 0; }` });
  try {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    let n = 0;
    for await (const _ of b2.events("r2", { signal: ac.signal, decode: false })) n++;
    assert.equal(n, 0);
    assert.ok(performance.now() - t0 < 2000);
    b2.openRingBuffer("r2", () => {}); // released
  } finally {
    b2.close();
  }
});

test("b.startPolling(): callbacks run as events arrive, with no poll call; the stop function ends it", { skip }, async () => {
  const N = 500;
  const b = await BPF.load({
    text: PRELUDE + `
BPF_PERF_OUTPUT(pevents);
BPF_RINGBUF_OUTPUT(revents, 16);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
${START}
    struct ev_t d = {};
    d.seq = seq; d.pid = pid;
    pevents.perf_submit(args, &d, sizeof(d));
    revents.ringbuf_output(&d, sizeof(d), 0);
    return 0;
}`,
  });
  try {
    const perf: bigint[] = [], ring: bigint[] = [];
    b.openPerfBuffer("pevents", (_cpu, ev: { seq: bigint }) => void perf.push(ev.seq), { decode: true });
    b.openRingBuffer("revents", (_ctx, ev: { seq: bigint }) => void ring.push(ev.seq), { decode: true });
    let drains = 0;
    const stop = b.startPolling({ onDrain: () => drains++ });
    const c = child(N);
    b.table("target").set(0, c.pid);
    assert.equal(await c.go(), 0);
    const deadline = performance.now() + 30_000; // a bound for a failing run; a passing one ends as the events arrive
    while ((perf.length < N || ring.length < N) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop();
    const want = Array.from({ length: N }, (_, i) => BigInt(i));
    assert.deepEqual(perf, want);
    assert.deepEqual(ring, want);
    assert.ok(drains > 0);
    // Stopped: new events wait in the rings for the next poll/consume.
    const c2 = child(3);
    b.table("target").set(0, c2.pid);
    assert.equal(await c2.go(), 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(perf.length, N);
    assert.equal(b.perfBufferConsume() + b.ringBufferConsume(), 6);
  } finally {
    b.close();
  }
});
