// Tier 2: the tools' framework against the real kernel: event-source probing (missing tracepoints, optional and
// alternative targets, forced kinds, kprobes), a tool program that does not compile names the tool, and interval
// streams (count, stop, close before iterating).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseSource, describeSource } from "../../src/tools/lib/source.js";
import { intervalStream, loadToolProgram } from "../../src/tools/lib/stream.js";
import { report } from "../../src/tools/lib/metrics.js";
import { NoEventSourceError, ToolProgramError, UsageError } from "../../src/tools/index.js";
import { haveKprobes } from "../../src/index.js";
import { toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("chooseSource: first usable candidate, optional and alternative targets, -v text", { skip }, () => {
  const s = chooseSource("demo", [
    { kind: "tracepoint", targets: ["nosuch:event", "sched:sched_switch"] },
    { kind: "tracepoint", targets: ["sched:nosuch_event|sched:sched_switch", "sched:not_here?"] },
  ]);
  assert.deepEqual(s, { kind: "tracepoint", targets: ["sched:sched_switch"], forced: false });
  assert.equal(describeSource(s), "tracepoint sched:sched_switch");
  const forced = chooseSource("demo", [{ kind: "raw_tracepoint", targets: ["sched:sched_switch"] }], "raw_tracepoint");
  assert.equal(describeSource(forced), "raw tracepoint sched:sched_switch (forced)");
});

test("chooseSource: no usable source says why and what the tool needs; a forced kind it lacks is a usage error", { skip }, () => {
  assert.throws(() => chooseSource("demo", [{ kind: "tracepoint", targets: ["nosuch:event"] }]), (e: unknown) => {
    assert.ok(e instanceof NoEventSourceError);
    assert.equal(e.code, "UNSUPPORTED");
    assert.equal(e.message, "demo: no usable event source on this kernel:\n  - tracepoint: no tracepoint nosuch:event on this kernel\ndemo needs the tracepoints: nosuch:event");
    return true;
  });
  assert.throws(() => chooseSource("demo", [{ kind: "tracepoint", targets: ["sched:sched_switch"] }], "kprobe"),
    (e: unknown) => e instanceof UsageError && /--source kprobe: demo has no program for that source \(it has: tracepoint\)/.test(e.message));
  const kp = haveKprobes();
  if (!kp.supported) {
    assert.throws(() => chooseSource("demo", [{ kind: "kprobe", targets: ["vfs_read"] }]), new RegExp(`kprobe: ${kp.reason.replace(/[()]/g, ".")}`));
  } else {
    assert.throws(() => chooseSource("demo", [{ kind: "kprobe", targets: ["no_such_function_tsbcc"] }]), /no kernel function no_such_function_tsbcc/);
  }
});

test("a tool program that fails to compile is reported as the tool's own, with the compiler's message", { skip }, async () => {
  await assert.rejects(loadToolProgram("demo", "int broken( {"), (e: unknown) => {
    assert.ok(e instanceof ToolProgramError);
    assert.equal(e.tool, "demo");
    assert.match(e.message, /^demo: the tool's own BPF program \(embedded in tsbcc's demo\) failed: /);
    assert.ok(e.cause);
    return true;
  });
});

test("interval streams: count, stop on close (a last report), close before iterating", { skip }, async () => {
  const src = { kind: "tracepoint" as const, targets: [], forced: false };
  let disposed = 0;
  let n = 0;
  const collect = (s: number) => report("demo", s, [{ kind: "counter", name: "n", unit: "calls", help: "", series: [{ labels: {}, value: ++n }] }]);
  const counted = intervalStream(src, { interval: 0.05, count: 3 }, collect, () => disposed++);
  const got = [];
  for await (const r of counted) got.push(r);
  assert.equal(got.length, 3);
  assert.equal(disposed, 1);
  assert.ok(got.every((r) => r.tool === "demo" && r.intervalSeconds > 0.03));
  const early = intervalStream(src, { interval: 60 }, collect, () => disposed++);
  early.close();
  assert.equal(disposed, 2, "closing before iterating frees at once");
  const last = [];
  for await (const r of early) last.push(r);
  assert.equal(last.length, 1, "and keeps the data so far as one report");
  const ac = new AbortController();
  const stopped = intervalStream(src, { signal: ac.signal }, collect, () => disposed++);
  setTimeout(() => ac.abort(), 50);
  const once = [];
  for await (const r of stopped) once.push(r);
  assert.equal(once.length, 1, "no interval: one report at stop, as BCC prints at Ctrl-C");
  assert.equal(disposed, 3);
});
