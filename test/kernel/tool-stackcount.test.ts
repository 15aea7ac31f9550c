// Tier 2: stackcount counts a test binary's N calls by stack: a uprobe on its own function gives the stack
// tsbcc_work <- tsbcc_driver <- main with count N; the getpid syscall tracepoint gives kernel (syscall entry, no
// tracing frames) + user frames with count N; -f folds them; the library merges processes unless perPid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/stackcount.js";
import { stackcount } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { haveSdt } from "../helpers/usdt-targets.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller, loadedSince, progCount } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed") || (!haveSdt && "sys/sdt.h (systemtap-sdt-dev) is needed");
const N = 123;

test("stackcount -P -p PID BIN:tsbcc_work: one stack through the test's functions, counted N times", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-stackcount-"));
  try {
    const child = pausedChild(caller(), [String(N)]);
    const svg = join(dir, "s.svg");
    const t = startTool(tool, ["-P", "-p", String(child.pid), "--flamegraph", svg, `${caller()}:tsbcc_work`]);
    assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
    assert.equal(await child.go(), 0);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`\\n\\n  tsbcc_work\\n  tsbcc_driver\\n  main\\n(  \\S+\\n)*    tsbcccall \\[${child.pid}\\]\\n    ${N}\\n\\nDetaching\\.\\.\\.\\n$`));
    assert.match(readFileSync(svg, "utf8"), /data-w="123" data-d="\d+" data-kind="native" data-name="tsbcc_work"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stackcount -f -d -p PID t:syscalls:sys_enter_getpid: kernel syscall path + user frames, N in total", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const before = progCount();
  const t = startTool(tool, ["-f", "-d", "-p", String(child.pid), "t:syscalls:sys_enter_getpid"]);
  await loadedSince(before); // -f prints no header
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  let total = 0;
  for (const line of t.out().trim().split("\n")) {
    const m = /^(\S.*) (\d+)$/.exec(line);
    assert.ok(m, line);
    total += Number(m[2]);
    assert.match(m[1], /main;getpid;-;.*do_syscall_64/, line);
    assert.doesNotMatch(m[1], /bpf_prog_|perf_syscall_enter|trace_call_bpf/, line);
  }
  assert.equal(total, N, t.out());
});

test("stackcount as a library, USDT probe, wrong input", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const stream = await stackcount({ pattern: `u:${caller()}:work`, pid: child.pid, perPid: true });
  assert.equal(stream.source.kind, "usdt");
  await child.go();
  stream.close();
  const all = [];
  for await (const s of stream) all.push(...s);
  assert.equal(all.reduce((n, s) => n + s.value, 0), N);
  assert.ok(all.every((s) => s.pid === child.pid && s.user.includes("tsbcc_driver") && s.kernel.length === 0), JSON.stringify(all));
  await assert.rejects(stackcount({ pattern: "t:sched:sched_switch", userStacks: false, kernelStacks: false }), /nothing to count/);
  await assert.rejects(stackcount({ pattern: "" }), /probe pattern is required/);
  const bad = startTool(tool, ["-U", "-K", "t:sched:sched_switch"]);
  assert.equal(await bad.done, 2);
});
