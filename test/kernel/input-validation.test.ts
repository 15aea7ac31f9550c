// Tier 2 (issue 9, item 4): input is validated at the door. Values the codecs would quietly turn into 0 or 1,
// poll timeouts that would wait forever or fire at once, and malformed tracepoint names are TsbccErrors that name
// the argument, and a refused call changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/api/bpf.js";
import { ArgumentError, ErrorCode, TsbccError } from "../../src/errors.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");

const TEXT = `BPF_HASH(counts);
BPF_ARRAY(slots, u32, 4);
BPF_PERF_OUTPUT(events);
int tracepoint__syscalls__sys_enter_getppid(void *ctx) { u64 k = 1; counts.increment(k); return 0; }
int on_tp(void *ctx) { return 0; }`;

test("table keys and values: undefined, null and booleans are refused, nothing is written", { skip }, async () => {
  const b = await BPF.load({ text: TEXT, autoload: false });
  try {
    const counts = b.table("counts");
    const cases: [unknown, unknown, string, RegExp][] = [
      [undefined, 5n, ErrorCode.TABLE_KEY, /invalid key.*got undefined.*nothing was given/],
      [7n, undefined, ErrorCode.TABLE_VALUE, /invalid value.*got undefined/],
      [null, 5n, ErrorCode.TABLE_KEY, /invalid key.*got null/],
      [true, 5n, ErrorCode.TABLE_KEY, /invalid key.*boolean true.*not an integer/],
      [7n, false, ErrorCode.TABLE_VALUE, /invalid value.*boolean false/],
      [[1], 5n, ErrorCode.TABLE_KEY, /invalid key.*array of length 1/],
    ];
    for (const [k, v, code, re] of cases) {
      assert.throws(() => counts.set(k, v), (e: unknown) => e instanceof TsbccError && e.code === code && re.test(e.message), `set(${String(k)}, ${String(v)})`);
    }
    assert.equal([...counts.keys()].length, 0, "no refused write reached the map");
    const slots = b.table("slots");
    assert.throws(() => slots.set(1, undefined), (e: unknown) => e instanceof TsbccError && e.code === ErrorCode.TABLE_VALUE);
    assert.throws(() => slots.set(true, 1), (e: unknown) => e instanceof TsbccError && e.code === ErrorCode.TABLE_KEY);
    assert.throws(() => slots.set(9, 1), (e: unknown) => e instanceof TsbccError && /index 9 out of range for 4/.test(e.message));
    counts.set(7n, 5n);
    assert.equal(counts.get(7n), 5n, "a valid write still works");
  } finally {
    b.close();
  }
});

test("perfBufferPoll: NaN, infinities, non-numbers and >= 2^31 ms are ArgumentErrors", { skip }, async () => {
  const b = await BPF.load({ text: TEXT, autoload: false });
  try {
    b.openPerfBuffer("events", () => {});
    for (const bad of [NaN, -Infinity, Infinity, 2 ** 31, 2 ** 40, "5" as unknown as number]) {
      await assert.rejects(b.perfBufferPoll(bad), (e: unknown) => e instanceof ArgumentError && e.argument === "timeoutMs", `timeout ${String(bad)}`);
    }
    const t0 = Date.now();
    assert.equal(await b.perfBufferPoll(20), 0, "a valid timeout still times out with nothing");
    assert.ok(Date.now() - t0 >= 15, "and it waited");
  } finally {
    b.close();
  }
});

test("BPF.load: text, cflags and debug of the wrong type name the argument", { skip }, async () => {
  const before = liveFds().size;
  const argument = (name: string) => (e: unknown) => e instanceof ArgumentError && e.argument === name;
  await assert.rejects(BPF.load({ text: 123 as unknown as string }), argument("text"));
  await assert.rejects(BPF.load({ text: TEXT, cflags: "-O2" as unknown as string[] }), argument("cflags"));
  await assert.rejects(BPF.load({ text: TEXT, debug: "4" as unknown as number }), argument("debug"));
  await assert.rejects(BPF.load(undefined as never), argument("opts"));
  assert.equal(liveFds().size, before);
});

test("attachTracepoint: a name that is not exactly category:event is an ArgumentError before anything loads", { skip }, async () => {
  const b = await BPF.load({ text: TEXT, autoload: false });
  try {
    for (const tp of ["syscalls:sys_enter_getppid:extra", "syscalls", ":sys_enter_getppid", "syscalls: sys_enter_getppid", 5]) {
      assert.throws(() => b.attachTracepoint({ tp: tp as string, fnName: "on_tp" }), (e: unknown) => e instanceof ArgumentError && e.argument === "tp", String(tp));
    }
    assert.equal(b.numOpenTracepoints(), 0);
    b.attachTracepoint({ tp: "syscalls:sys_enter_getppid", fnName: "on_tp" });
    assert.equal(b.numOpenTracepoints(), 1);
  } finally {
    b.close();
  }
});
