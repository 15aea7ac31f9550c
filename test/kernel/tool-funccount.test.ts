// Tier 2: funccount counts exactly what a test binary does: N calls of its own function (uprobe), N libc getpid()
// calls (c:getpid), N getpid syscall tracepoint hits and N firings of its USDT probe; a kernel-function pattern
// says kprobes are missing where they are (this host).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/funccount.js";
import { funccount, type CounterMetric, NoEventSourceError } from "../../src/tools/index.js";
import { haveKprobes } from "../../src/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { haveSdt } from "../helpers/usdt-targets.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed") || (!haveSdt && "sys/sdt.h (systemtap-sdt-dev) is needed");
const N = 321;

async function countOf(pattern: string, extra: string[] = []): Promise<{ out: string; count: number }> {
  const child = pausedChild(caller(), [String(N)]);
  const t = startTool(tool, ["-p", String(child.pid), ...extra, pattern]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  const rows = [...out.matchAll(/^(\S+) +(\d+)$/gm)];
  return { out, count: rows.reduce((n, m) => n + Number(m[2]), 0) };
}

test("funccount -p PID BIN:tsbcc_work: exactly N, BCC's header and FUNC/COUNT table", { skip }, async () => {
  const { out, count } = await countOf(`${caller()}:tsbcc_work`);
  assert.match(out, /^Tracing 1 functions for ".*:tsbcc_work"\.\.\. Hit Ctrl-C to end\.\n\nFUNC {36}COUNT\ntsbcc_work {27} +\d+\nDetaching\.\.\.\n$/);
  assert.equal(count, N, out);
});

test("funccount c:getpid, t:syscalls:sys_enter_getpid and u:BIN:work each count exactly N", { skip }, async () => {
  assert.equal((await countOf("c:getpid")).count, N);
  const tp = await countOf("t:syscalls:sys_enter_getp*");
  assert.match(tp.out, /^syscalls:sys_enter_getpid +\d+$/m);
  assert.equal(tp.count, N, tp.out);
  const usdt = await countOf(`u:${caller()}:work`);
  assert.match(usdt.out, /^tsbcc:work +\d+$/m);
  assert.equal(usdt.count, N, usdt.out);
});

test("funccount as a library: interval reports, the wildcard expansion, and wrong input", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const stream = await funccount({ pattern: `${caller()}:tsbcc_*`, pid: child.pid, interval: 0.3 });
  assert.deepEqual(stream.targets, ["tsbcc_driver", "tsbcc_work"]);
  const done = child.go();
  const totals = new Map<string, number>();
  let n = 0;
  for await (const r of stream) {
    for (const s of (r.metrics[0] as CounterMetric).series) totals.set(s.labels.function!, (totals.get(s.labels.function!) ?? 0) + s.value);
    if (++n === 1) await done;
    if (n === 2) stream.close();
  }
  assert.deepEqual(Object.fromEntries(totals), { tsbcc_driver: 1, tsbcc_work: N });
  await assert.rejects(funccount({ pattern: "x:y:z:w" }), /unrecognized probe/);
  await assert.rejects(funccount({ pattern: "c:no_such_function_tsbcc" }), /no function of .* matches/);
  await assert.rejects(funccount({ pattern: "t:nosuchcat:x" }), /no tracepoint matches/);
  await assert.rejects(funccount({ pattern: "r:c:getpid" }), /not supported by funccount/);
  const bad = startTool(tool, []);
  assert.equal(await bad.done, 2);
});

test("funccount on a kernel function: needs kprobes, and says so where they are missing", { skip }, async (t) => {
  const k = haveKprobes();
  if (k.supported) {
    t.diagnostic("this kernel has kprobes: vfs_* counting attaches");
    const s = await funccount({ pattern: "vfs_read", duration: 0.2 });
    for await (const _ of s) { /* one report */ }
    return;
  }
  await assert.rejects(funccount({ pattern: "vfs_*" }), (e) => e instanceof NoEventSourceError && /kprobes/.test(e.message) && /t:category:event/.test(e.message));
  const r = startTool(tool, ["vfs_*"]);
  assert.equal(await r.done, 1);
  assert.match(r.err(), /no kprobes/);
});
