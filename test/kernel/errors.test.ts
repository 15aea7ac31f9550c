// Tier 2: every error path a user can reach through the public API raises a TsbccError with its stable code,
// on this kernel (no kprobes, no fentry: their codes are asserted where the probes say the feature is missing),
// and failed calls leave no fd behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF, BPFObject, TsbccError, ErrorCode, haveKprobes, haveFentry, type ErrorCodeName } from "../../src/index.js";
import { bpfObject } from "../helpers/build.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");

/** Asserts `fn` throws (or rejects with) a TsbccError with `code`. */
async function code(code: ErrorCodeName, fn: () => unknown, message?: RegExp): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof TsbccError, `expected a TsbccError ${code}, got ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  if (message) assert.match(thrown.message, message);
}

const COUNTER = `BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { u32 k = 1; counts.increment(k); return 0; }`;

test("BPF.load: bad options, compile errors, verifier rejections, map creation, USDT", { skip }, async () => {
  const before = liveFds().size;
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({}), /exactly one of `text` or `srcFile`/);
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({ text: 42 as unknown as string }));
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load(undefined as never));
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({ text: COUNTER, cflags: "-DX" as never }), /cflags/);
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({ text: COUNTER, debug: "all" as never }), /debug/);
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({ srcFile: "/nonexistent/prog.c" }), /srcFile: cannot read/);
  await code(ErrorCode.BAD_ARGUMENT, () => BPFObject.load("/nonexistent/prog.bpf.o"), /path: cannot read/);
  await code(ErrorCode.COMPILE, () => BPF.load({ text: "int f(void *ctx) { return nope; }" }), /nope/);
  await code(ErrorCode.VERIFIER, () => BPF.load({
    text: `BPF_HASH(h, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { u32 k = 0; u64 *v = h.lookup(&k); return *v; }`,
  }), /verifier rejected/);
  await code(ErrorCode.MAP_CREATE, () => BPF.load({ text: "BPF_RINGBUF_OUTPUT(r, 3);\nint f(void *ctx) { return 0; }" }), /ring buffer size/);
  await code(ErrorCode.BAD_ARGUMENT, () => BPF.load({ text: COUNTER, usdtContexts: [{} as never] }), /usdtContexts\[0\]/);
  assert.equal(liveFds().size, before, "failed loads release everything");
});

test("attach paths: unknown tracepoint, kprobes and fentry where the kernel lacks them, double attach, detach", { skip }, async () => {
  const b = await BPF.load({
    text: COUNTER + `
int kprobe__do_nanosleep(void *ctx) { return 0; }
KFUNC_PROBE(do_nanosleep) { return 0; }
RAW_TRACEPOINT_PROBE(sched_switch) { return 0; }`,
    autoload: false,
  });
  try {
    await code(ErrorCode.NO_SUCH_TRACEPOINT, () => b.attachTracepoint({ tp: "syscalls:sys_enter_no_such", fnName: "tracepoint__syscalls__sys_enter_getppid" }),
      /BPF\.getTracepoints/);
    await code(ErrorCode.BAD_ARGUMENT, () => b.attachTracepoint({ tp: "no-colon", fnName: "tracepoint__syscalls__sys_enter_getppid" }));
    await code(ErrorCode.NO_SUCH_FUNCTION, () => b.attachTracepoint({ tp: "syscalls:sys_enter_getppid", fnName: "nope" }), /functions: /);
    if (!haveKprobes().supported) {
      await code(ErrorCode.NO_KPROBES, () => b.attachKprobe({ event: "do_nanosleep", fnName: "kprobe__do_nanosleep" }), /KFUNC_PROBE|tracepoint/);
      await code(ErrorCode.NO_KPROBES, () => BPF.load({ text: "int kprobe__do_nanosleep(void *ctx) { return 0; }" }));
    }
    if (!haveFentry().supported) await code(ErrorCode.NO_BTF_PROGRAMS, () => b.attachKfunc({ fnName: "do_nanosleep" }));
    b.attachRawTracepoint({ tp: "sched_switch", fnName: "raw_tracepoint__sched_switch" });
    await code(ErrorCode.ATTACH, () => b.attachRawTracepoint({ tp: "sched_switch", fnName: "raw_tracepoint__sched_switch" }), /already attached/);
    await code(ErrorCode.STATE, () => b.detachTracepoint("syscalls:sys_enter_getppid"), /not attached/);
    await code(ErrorCode.NO_SUCH_FUNCTION, () => b.loadFunc("nope", BPF.KPROBE));
    await code(ErrorCode.NO_SUCH_FUNCTION, () => b.dumpFunc("nope"));
    await code(ErrorCode.NO_SUCH_FUNCTION, () => b.disassembleFunc("nope"));
    await code(ErrorCode.NO_SUCH_TABLE, () => b.decodeTable("nope"));
    await code(ErrorCode.BAD_ARGUMENT, () => BPF.tracepointExists("../..", "x"));
    await code(ErrorCode.BAD_ARGUMENT, () => BPF.getTracepoints("("), /re: not a valid regular expression/);
    await code(ErrorCode.BAD_ARGUMENT, () => b.attachTracepoint({ tpRe: "sys(", fnName: "tracepoint__syscalls__sys_enter_getppid" }), /tpRe/);
    await code(ErrorCode.BAD_ARGUMENT, () => BPF.getKprobeFunctions("(("), /eventRe/);
    await code(ErrorCode.BAD_ARGUMENT, () => b.table("counts").keyScanf("{ 1"));
  } finally {
    b.close();
  }
});

test("tables and event readers: unknown table, bad keys and values, wrong reader, nothing open, closed", { skip }, async () => {
  const b = await BPF.load({ text: COUNTER + "\nBPF_PERF_OUTPUT(events);\nBPF_ARRAY(arr, u32, 4);" });
  const counts = b.table("counts");
  await code(ErrorCode.NO_SUCH_TABLE, () => b.table("nope"), /tables: .*counts/);
  await code(ErrorCode.NO_SUCH_TABLE, () => b.openPerfBuffer("nope", () => {}));
  await code(ErrorCode.BAD_ARGUMENT, () => b.openRingBuffer("events", () => {}), /not a BPF_RINGBUF_OUTPUT/);
  await code(ErrorCode.BAD_ARGUMENT, () => b.openPerfBuffer("events", () => {}, { pageCnt: 3 }), /power of two/);
  await code(ErrorCode.STATE, () => b.perfBufferPoll(0), /no perf buffer is open/);
  await code(ErrorCode.STATE, () => b.table("events").event(new Uint8Array(8)), /no event type/);
  await code(ErrorCode.BAD_ARGUMENT, () => b.table("events").openPerfBuffer(() => {}, { pageCnt: 0 }));
  await code(ErrorCode.TABLE_KEY, () => counts.set("one", 1n));
  await code(ErrorCode.TABLE_VALUE, () => counts.set(1, "one"));
  await code(ErrorCode.TABLE_KEY, () => b.table("arr").get(9), /out of range/);
  await code(ErrorCode.BAD_ARGUMENT, () => counts.set(1, 1n, "sometimes" as never), /update flag/);
  b.openPerfBuffer("events", () => {});
  await code(ErrorCode.STATE, () => b.openPerfBuffer("events", () => {}), /already open/);
  b.close();
  await code(ErrorCode.CLOSED, () => counts.get(1));
});

test("BPFObject: bad ELF, unknown program and map, sections without an attach point", { skip }, async () => {
  await code(ErrorCode.BAD_ELF, () => BPFObject.fromBytes(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3])));
  const obj = BPFObject.fromBytes(bpfObject(`#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, long); __uint(max_entries, 1); } m SEC(".maps");
SEC("socket") int sock(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`));
  try {
    await code(ErrorCode.NO_SUCH_FUNCTION, () => obj.program("nope"), /sock/);
    await code(ErrorCode.NO_SUCH_TABLE, () => obj.map("nope"), /maps: m/);
    await code(ErrorCode.BAD_ARGUMENT, () => obj.program("sock").attach(), /does not name an attach point/);
  } finally {
    obj.close();
  }
});

test("PERMISSION: an unprivileged process loading an object gets code PERMISSION", { skip }, () => {
  if (Number(spawnSync("cat", ["/proc/sys/kernel/unprivileged_bpf_disabled"]).stdout.toString()) === 0) {
    return; // unprivileged BPF is allowed here: there is no refusal to observe
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-perm-"));
  try {
    chmodSync(dir, 0o755);
    const objPath = join(dir, "o.bpf.o");
    writeFileSync(objPath, bpfObject(`#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, long); __uint(max_entries, 1); } m SEC(".maps");
char LICENSE[] SEC("license") = "GPL";`));
    const url = new URL("../../src/index.js", import.meta.url).href;
    const script = `const { BPFObject } = await import(${JSON.stringify(url)});
try { await BPFObject.load(${JSON.stringify(objPath)}); console.log("loaded"); } catch (e) { console.log(e.code + " " + e.constructor.name); }`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8" });
    assert.equal(r.stdout.trim(), "PERMISSION MapCreateError", r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
