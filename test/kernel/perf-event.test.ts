// Tier 2: perf events. Software cpu-clock sampling of a CPU-bound target (frame pointers) puts its samples in
// the target's own code; BPF_PERF_ARRAY counters read with perf_read / perf_counter_value; hardware events fail
// with the probed reason when this machine has no PMU counters; bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BPF, PerfHWConfig, PerfSWConfig, PerfType, openPerfCounters } from "../../src/index.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";
import { haveClang, haveGcc } from "../helpers/build.js";
import { buildTargets, haveSdt, startTarget } from "../helpers/usdt-targets.js";

const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang || !haveGcc ? "needs clang and gcc" : !haveSdt ? "needs sys/sdt.h (systemtap-sdt-dev)" : false;

const SAMPLE = `
#include <uapi/linux/bpf_perf_event.h>
BPF_HASH(ips, u64, u64, 4096);
BPF_ARRAY(pids, u64, 2);
int on_sample(struct bpf_perf_event_data *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u32 k = pid == TARGET_PID ? 0 : 1;
  u64 *n = pids.lookup(&k); if (n) __sync_fetch_and_add(n, 1);
  u64 ip = PT_REGS_IP(&ctx->regs);
  ips.increment(ip);
  return 0;
}
`;

function execMappings(pid: number): { start: bigint; end: bigint; path: string }[] {
  return readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").flatMap((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) r-xp \S+ \S+ \d+\s+(\S.*)$/.exec(l);
    return m ? [{ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), path: m[3]! }] : [];
  });
}

test("cpu-clock sampling of a CPU-bound target puts its samples in the target's text", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: SAMPLE, cflags: [`-DTARGET_PID=${t.pid}`] });
    b.attachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK, sampleFreq: 499, pid: t.pid, fnName: "on_sample" });
    await t.send("b 400");
    b.detachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK });
    const own = b.table("pids").get(0) as bigint;
    assert.equal(b.table("pids").get(1), 0n, "pid-filtered: no other process sampled");
    assert.ok(own >= 50n, `${own} samples in 400 ms of the target's CPU time at 499 Hz`);
    const text = execMappings(t.pid).find((m) => m.path === target)!;
    let inText = 0n;
    for (const [ip, n] of b.table("ips").entries() as Iterable<[bigint, bigint]>) if (ip >= text.start && ip < text.end) inText += n;
    assert.ok(inText * 2n >= own, `${inText} of ${own} samples in the target's text (${text.start.toString(16)}-${text.end.toString(16)})`);
  } finally {
    b?.close();
    await t.stop();
  }
});

const COUNTERS = `
BPF_PERF_ARRAY(clock, 64);
BPF_ARRAY(out, u64, 4);
int on_call(struct pt_regs *ctx) {
  struct bpf_perf_event_value v = {};
  int r = clock.perf_counter_value(BPF_F_CURRENT_CPU, &v, sizeof(v));
  u32 k = 0; u64 *o = out.lookup(&k); if (o && r == 0) __sync_fetch_and_add(o, 1);
  k = 1; o = out.lookup(&k); if (o && r == 0 && v.counter > *o) *o = v.counter;
  u64 raw = clock.perf_read(BPF_F_CURRENT_CPU);
  k = 2; o = out.lookup(&k); if (o && (s64)raw > 0) __sync_fetch_and_add(o, 1);
  return 0;
}
`;

test("BPF_PERF_ARRAY counters: perf_counter_value and perf_read see the opened events", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  let b: BPF | undefined;
  let counters: { close(): void } | undefined;
  try {
    b = await BPF.load({ text: COUNTERS });
    counters = openPerfCounters(b.table("clock").fd.value, { evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK });
    b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_call", pid: t.pid });
    await t.send("c 200");
    assert.equal(b.table("out").get(0), 200n, "perf_counter_value succeeded on every call");
    assert.ok((b.table("out").get(1) as bigint) > 0n, "the cpu-clock counter advanced");
    assert.equal(b.table("out").get(2), 200n, "perf_read returned a count on every call");
  } finally {
    counters?.close();
    b?.close();
    await t.stop();
  }
});

test("hardware events: a clear probed error where the machine has no PMU counters", { skip }, async (t) => {
  const b = await BPF.load({ text: SAMPLE, cflags: ["-DTARGET_PID=1"] });
  try {
    let opened = false;
    try {
      b.attachPerfEvent({ evType: PerfType.HARDWARE, evConfig: PerfHWConfig.CPU_CYCLES, samplePeriod: 1000000, fnName: "on_sample" });
      opened = true;
    } catch (e) {
      assert.ok(e instanceof TsbccError && e.code === ErrorCode.UNSUPPORTED, String(e));
      assert.match(e.message, /no hardware PMU counters/);
    }
    if (opened) t.diagnostic("this machine has hardware counters: CPU_CYCLES sampling attached");
  } finally {
    b.close();
  }
});

test("perf event bad input", { skip }, async () => {
  const b = await BPF.load({ text: SAMPLE, cflags: ["-DTARGET_PID=1"] });
  const code = (fn: () => unknown, c: string, re?: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof TsbccError && e.code === c && (!re || re.test(e.message)), String(c));
  };
  const base = { evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK, fnName: "on_sample" };
  try {
    code(() => b.attachPerfEvent({ ...base }), ErrorCode.BAD_ARGUMENT, /exactly one of samplePeriod or sampleFreq/);
    code(() => b.attachPerfEvent({ ...base, samplePeriod: 10, sampleFreq: 10 }), ErrorCode.BAD_ARGUMENT);
    code(() => b.attachPerfEvent({ ...base, sampleFreq: 1.5 }), ErrorCode.BAD_ARGUMENT, /sampleFreq/);
    code(() => b.attachPerfEvent({ ...base, sampleFreq: 99, cpu: 4096 }), ErrorCode.BAD_ARGUMENT, /cpu/);
    code(() => b.attachPerfEvent({ ...base, sampleFreq: 99, pid: 0x3ffffff0 }), ErrorCode.NO_SUCH_PROCESS);
    code(() => b.attachPerfEvent({ ...base, evConfig: 999, sampleFreq: 99 }), ErrorCode.UNSUPPORTED);
    code(() => openPerfCounters(b.table("ips").fd.value, { evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK }), ErrorCode.BAD_ARGUMENT, /BPF_PERF_ARRAY/);
    assert.throws(() => b.detachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK }), /not attached/);
    b.attachPerfEvent({ ...base, sampleFreq: 99, cpu: 0 });
    code(() => b.attachPerfEvent({ ...base, sampleFreq: 99 }), ErrorCode.ATTACH, /already attached/);
  } finally {
    b.close();
  }
});

test("attachPerfEventRaw: exclude_kernel keeps only user-mode samples, exclude_user only kernel-mode ones; bad attr", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  const KERNEL_HALF = 0xffff800000000000n; // x86-64: kernel addresses are the upper canonical half
  const samplesWith = async (attr: { excludeUser?: boolean; excludeKernel?: boolean }): Promise<{ user: bigint; kernel: bigint }> => {
    const b = await BPF.load({ text: SAMPLE, cflags: [`-DTARGET_PID=${t.pid}`] });
    try {
      b.attachPerfEventRaw({ attr: { type: PerfType.SOFTWARE, config: PerfSWConfig.CPU_CLOCK, samplePeriod: 1_000_000, ...attr }, pid: t.pid, fnName: "on_sample" });
      await t.send("b 300");
      b.detachPerfEvent({ evType: PerfType.SOFTWARE, evConfig: PerfSWConfig.CPU_CLOCK });
      const out = { user: 0n, kernel: 0n };
      for (const [ip, n] of b.table("ips").entries() as Iterable<[bigint, bigint]>) out[ip >= KERNEL_HALF ? "kernel" : "user"] += n;
      return out;
    } finally {
      b.close();
    }
  };
  try {
    const userOnly = await samplesWith({ excludeKernel: true });
    assert.equal(userOnly.kernel, 0n, "exclude_kernel: no kernel-mode sample");
    assert.ok(userOnly.user >= 50n, `${userOnly.user} user-mode samples in 300 ms of spinning (CPU time) at 1 ms`);
    const kernelOnly = await samplesWith({ excludeUser: true });
    assert.equal(kernelOnly.user, 0n, "exclude_user: no user-mode sample");
    assert.ok(kernelOnly.kernel < userOnly.user / 4n, `a user-space spinner has few kernel-mode samples: ${kernelOnly.kernel}`);

    const b = await BPF.load({ text: SAMPLE, cflags: [`-DTARGET_PID=${t.pid}`] });
    try {
      const bad = (attr: unknown, re: RegExp) => assert.throws(() => b.attachPerfEventRaw({ attr: attr as never, fnName: "on_sample" }), (e: Error & { code?: string }) => e.code === "BAD_ARGUMENT" && re.test(e.message));
      bad(undefined, /attr/);
      bad({ type: PerfType.SOFTWARE, config: PerfSWConfig.CPU_CLOCK, samplePeriod: 1000, excludeUser: "yes" }, /attr\.excludeUser/);
      bad({ type: PerfType.SOFTWARE, config: PerfSWConfig.CPU_CLOCK, samplePeriod: 1000, preciseIp: 5 }, /preciseIp/);
      bad({ type: -1, config: 0, samplePeriod: 1000 }, /evType/);
      bad({ type: PerfType.SOFTWARE, config: PerfSWConfig.CPU_CLOCK }, /samplePeriod/);
      assert.equal(BPF.numOpenUprobes(), 0);
    } finally {
      b.close();
    }
  } finally {
    await t.stop();
  }
});
