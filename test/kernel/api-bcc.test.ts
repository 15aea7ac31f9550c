// Tier 2: BCC's API points of issue 8 against the real kernel: a BPF_TABLE_PINNED map shared by two processes,
// exact perf loss right after a burst (no later write needed), the ring callback's (ctx, data, size), the output
// tables' own open*/event(), and BCC's static helpers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, rmdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF, BPFObject, PerfEventArrayTable, RingBufTable, ErrorCode, syscallName, syscallTable, getOnlineCpus, getPossibleCpus, haveFmodRet } from "../../src/index.js";
import { bpfObject, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "gcc", "root");
const indexUrl = new URL("../../src/index.js", import.meta.url).href;

/** A private bpffs mount for the test (the host's /sys/fs/bpf may not be mounted), removed afterwards. */
function withBpffs(): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-bpffs-"));
  execFileSync("mount", ["-t", "bpf", "bpf", dir]);
  return {
    dir,
    done() {
      execFileSync("umount", [dir]);
      rmdirSync(dir);
    },
  };
}

/** Runs `body` (an async function body with `BPF` in scope) in another node process; resolves with its stdout. */
function otherProcess(body: string): Promise<string> {
  const script = `const { BPF } = await import(${JSON.stringify(indexUrl)});\n${body}`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`other process exit ${code}: ${err}`))));
  });
}

test("BPF_TABLE_PINNED: a second process opens the same map; its writes steer this process's program", { skip }, async () => {
  const fs = withBpffs();
  const path = join(fs.dir, "tsbcc", "filter");
  const decl = `BPF_TABLE_PINNED("hash", u32, u8, filter, 64, "${path}");`;
  const child = pausedChild(syscallLoop("getppid"), ["1000"]);
  const b = await BPF.load({
    text: `${decl}
BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (!filter.lookup(&pid)) return 0;
    counts.increment(pid);
    return 0;
}`,
  });
  try {
    b.table("filter").set(7, 1);
    // The other process loads its own program with the same declaration: it must get this map, not a new one.
    const out = await otherProcess(`
const b = await BPF.load({ text: ${JSON.stringify(`${decl}\nint unused(void *ctx) { return 0; }`)}, autoload: false });
const f = b.table("filter");
process.stdout.write(JSON.stringify({ seen: f.get(7) ?? null }));
f.set(${child.pid}, 1);
b.close();`);
    assert.deepEqual(JSON.parse(out), { seen: 1 }, "the other process read this process's entry");
    assert.equal(b.table("filter").get(child.pid), 1, "and this process reads the other's");
    assert.equal(await child.go(), 0);
    assert.equal(b.table("counts").get(child.pid), 1000n, "the program filtered by what the other process wrote");
  } finally {
    b.close();
    rmSync(join(fs.dir, "tsbcc"), { recursive: true, force: true });
    fs.done();
  }
});

test("BPFObject: libbpf's pinning = LIBBPF_PIN_BY_NAME shares a map under pinRoot between two loads", { skip }, () => {
  const fs = withBpffs();
  const obj = bpfObject(`#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, int); __type(value, long); __uint(max_entries, 8);
         __uint(pinning, LIBBPF_PIN_BY_NAME); } shared SEC(".maps");
SEC("socket") int sock(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`);
  try {
    const a = BPFObject.fromBytes(obj, { pinRoot: fs.dir });
    a.map("shared").set(1, 11n);
    const b = BPFObject.fromBytes(obj, { pinRoot: fs.dir });
    assert.equal(b.map("shared").get(1), 11n, "the second load opened the first one's map");
    a.close();
    b.close();
    assert.ok(existsSync(join(fs.dir, "shared")), "the pin outlives both objects, as in libbpf");
  } finally {
    rmSync(join(fs.dir, "shared"), { force: true });
    fs.done();
  }
});

test("BPF_TABLE_PINNED: a path outside bpffs fails with code PIN; nothing is left open", { skip }, async () => {
  const before = liveFds().size;
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-notbpffs-"));
  try {
    await assert.rejects(BPF.load({ text: `BPF_TABLE_PINNED("hash", u32, u64, m, 16, "${dir}/m");\nint f(void *ctx) { return 0; }` }),
      (e: Error & { code?: string }) => e.code === ErrorCode.PIN && /not on the BPF filesystem/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveFds().size, before);
});

/** A 64-byte perf_submit per getppid() of the pid in target[0]. */
const PERF_BURST = `
struct ev_t { u64 seq; u64 pad[7]; };
BPF_ARRAY(target, u32, 1);
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    int zero = 0;
    u32 *t = target.lookup(&zero);
    if (!t || *t != (bpf_get_current_pid_tgid() >> 32)) return 0;
    struct ev_t d = {};
    events.perf_submit(args, &d, sizeof(d));
    return 0;
}`;

/** Runs `n` getppid() calls on CPU 0 (one perf ring gets the whole burst) as the program's target. */
async function burst(b: BPF, n: number): Promise<void> {
  const c = pausedChild("taskset", ["-c", "0", syscallLoop("getppid"), String(n)]);
  b.table("target").set(0, c.pid);
  assert.equal(await c.go(), 0);
}

test("perf loss is exact right after a burst into a 1-page buffer: delivered + lost == produced, no later write", { skip }, async () => {
  const N = 20000;
  const b = await BPF.load({ text: PERF_BURST });
  try {
    let delivered = 0, lost = 0;
    b.table<PerfEventArrayTable>("events").openPerfBuffer(() => void delivered++, { pageCnt: 1, lostCb: (n) => void (lost += n) });
    await burst(b, N); // the whole burst lands while nothing reads
    while (b.perfBufferConsume() > 0);
    assert.ok(lost > 0 && delivered > 0, `a one-page ring keeps some and loses the rest (delivered ${delivered}, lost ${lost})`);
    assert.equal(delivered + lost, N, `delivered ${delivered} + lost ${lost}`);
    assert.equal(b.perfBufferLost(), lost, "perfBufferLost() agrees");
  } finally {
    b.close();
  }
});

test("perf loss with startPolling: the last losses of a burst reach lostCb with no further call", { skip }, async () => {
  const N = 20000;
  const b = await BPF.load({ text: PERF_BURST });
  try {
    let delivered = 0, lost = 0;
    b.openPerfBuffer("events", () => void delivered++, { pageCnt: 1, lostCb: (n) => void (lost += n) });
    const stop = b.startPolling();
    await burst(b, N);
    const deadline = performance.now() + 30_000; // a bound for a failing run; a passing one ends at once
    while (delivered + lost < N && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.equal(delivered + lost, N, `delivered ${delivered} + lost ${lost}`);
  } finally {
    b.close();
  }
});

test("ring buffer callback gets BCC's (ctx, data, size); the table's own openRingBuffer and event() decode", { skip }, async () => {
  const N = 10;
  const b = await BPF.load({
    text: `
struct ev_t { u64 seq; u32 pid; u32 tag; };
BPF_ARRAY(target, u32, 1);
BPF_ARRAY(seqs, u64, 1);
BPF_RINGBUF_OUTPUT(raw, 1);
BPF_RINGBUF_OUTPUT(decoded, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    int zero = 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u32 *t = target.lookup(&zero);
    u64 *s = seqs.lookup(&zero);
    if (!t || !s || *t != pid) return 0;
    struct ev_t d = {};
    d.seq = __sync_fetch_and_add(s, 1); d.pid = pid; d.tag = 7;
    raw.ringbuf_output(&d, sizeof(d), 0);
    decoded.ringbuf_output(&d, sizeof(d), 0);
    return 0;
}`,
  });
  try {
    const ctx = { name: "mine" };
    const rawSeen: { ctx: unknown; seq: bigint; size: number }[] = [];
    const decodedSeen: { ctx: unknown; ev: { seq: bigint; pid: number; tag: number }; size: number }[] = [];
    const rawTable = b.table<RingBufTable>("raw");
    b.openRingBuffer("raw", (c, data: Uint8Array, size) => {
      assert.ok(data instanceof Uint8Array);
      rawSeen.push({ ctx: c, seq: rawTable.event<{ seq: bigint }>(data).seq, size });
    }, { ctx });
    b.table<RingBufTable>("decoded").openRingBuffer((c, ev: { seq: bigint; pid: number; tag: number }, size) => {
      decodedSeen.push({ ctx: c, ev, size });
    }, { ctx: 42, decode: true });
    const c = pausedChild(syscallLoop("getppid"), [String(N)]);
    b.table("target").set(0, c.pid);
    assert.equal(await c.go(), 0);
    while (b.ringBufferConsume() > 0);
    assert.equal(rawSeen.length, N);
    assert.ok(rawSeen.every((r, i) => r.ctx === ctx && r.seq === BigInt(i) && r.size === 16), "ctx is the object given; size is sizeof(struct ev_t)");
    assert.equal(decodedSeen.length, N);
    assert.ok(decodedSeen.every((d, i) => d.ctx === 42 && d.size === 16 && d.ev.seq === BigInt(i) && d.ev.pid === c.pid && d.ev.tag === 7));
  } finally {
    b.close();
  }
});

test("BCC's static helpers answer from the running kernel", { skip }, () => {
  assert.equal(BPF.tracepointExists("syscalls", "sys_enter_getppid"), true);
  assert.equal(BPF.tracepointExists("syscalls", "sys_enter_no_such_call"), false);
  assert.deepEqual(BPF.getTracepoints("syscalls:sys_enter_getppid$"), ["syscalls:sys_enter_getppid"]);
  assert.equal(BPF.kernelStructHasField("task_struct", "pid"), true);
  assert.equal(BPF.kernelStructHasField("task_struct", "no_such_field"), false);
  assert.equal(BPF.kernelStructHasField("no_such_struct", "pid"), false);
  assert.equal(BPF.kernelEnumHasVal("bpf_map_type", "BPF_MAP_TYPE_RINGBUF"), true);
  assert.equal(BPF.kernelEnumHasVal("bpf_map_type", "BPF_MAP_TYPE_NOPE"), false);
  assert.equal(BPF.supportFmodRet(), haveFmodRet().supported);
  assert.equal(typeof BPF.supportRawTracepointInModule(), "boolean");
  // x86_64 numbers (uapi asm/unistd_64.h): getppid is 110, read 0.
  assert.equal(syscallName(110), "getppid");
  assert.equal(syscallName(0), "read");
  assert.equal(syscallName(99999), "[unknown: 99999]");
  assert.ok(syscallTable().size > 300);
  assert.ok(getOnlineCpus().length >= 1 && getPossibleCpus().length >= getOnlineCpus().length);
  assert.equal(typeof BPF.monotonicTime(), "bigint");
});

test("BPF.monotonicTime is the clock of bpf_ktime_get_ns: a kernel timestamp falls between two readings", { skip }, async () => {
  // Not /proc/uptime: that is CLOCK_BOOTTIME, which runs on while a VM is suspended or a sandbox is checkpointed.
  const child = pausedChild(syscallLoop("getppid"), ["1"]);
  const b = await BPF.load({
    text: `BPF_ARRAY(stamp, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != ${child.pid}) return 0;
    int zero = 0;
    u64 now = bpf_ktime_get_ns();
    stamp.update(&zero, &now);
    return 0;
}`,
  });
  try {
    const lo = BPF.monotonicTime();
    assert.equal(await child.go(), 0);
    const hi = BPF.monotonicTime();
    const kernel = b.table("stamp").get(0) as bigint;
    assert.ok(lo <= kernel && kernel <= hi, `kernel ${kernel} between ${lo} and ${hi}`);
  } finally {
    b.close();
  }
});

test("b.tableNames / has() / items() / dumpFunc / numOpenTracepoints", { skip }, async () => {
  const b = await BPF.load({
    text: `BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { u32 k = 1; counts.increment(k); return 0; }`,
  });
  try {
    assert.deepEqual(b.tableNames, ["counts"]);
    assert.deepEqual([...b], ["counts"]);
    assert.equal(b.size, 1);
    assert.equal(b.has("counts"), true);
    assert.equal(b.has("nope"), false);
    b.table("counts").set(5, 6n);
    assert.deepEqual([...b.table("counts").items()].filter(([k]) => k === 5), [[5, 6n]]);
    const insns = b.dumpFunc("tracepoint__syscalls__sys_enter_getppid");
    assert.ok(insns.length > 0 && insns.length % 8 === 0, "whole 8-byte instructions");
    assert.equal(insns[insns.length - 8], 0x95, "ends with exit");
    const dis = b.disassembleFunc("tracepoint__syscalls__sys_enter_getppid").split("\n");
    assert.equal(dis.length - 1 <= insns.length / 8 && dis.length > 2, true);
    assert.match(dis.at(-1)!, /: \(95\) exit$/);
    assert.ok(dis.some((l) => /call bpf_map_lookup_elem#1$/.test(l)), dis.join("\n"));
    assert.match(b.decodeTable("counts"), /^Layout of BPF map counts \(type HASH, FD \d+, ID \d+\):\n {2}key: u32 \(4 bytes\)\n {2}value: u64 \(8 bytes\)$/);
    const counts = b.table("counts");
    assert.equal(counts.keySprintf(5), "0x5");
    assert.equal(counts.leafScanf(counts.leafSprintf(6n)), 6n);
    assert.equal(b.numOpenTracepoints(), 1);
    const fns = b.loadFuncs(BPF.TRACEPOINT);
    assert.deepEqual(fns.map((f) => f.name), ["tracepoint__syscalls__sys_enter_getppid"]);
    assert.ok(fns[0]!.fd > 0);
  } finally {
    b.close();
  }
});
