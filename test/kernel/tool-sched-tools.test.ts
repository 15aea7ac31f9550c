// Tier 2: runqslower and cpudist see a child that sleeps N times: N wake-ups (runqslower with a 0 us threshold
// reports each), N off-CPU periods of at least the sleep time (cpudist -O), N on-CPU periods (cpudist).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool as slowerTool } from "../../src/tools/runqslower.js";
import { tool as cpudistTool } from "../../src/tools/cpudist.js";
import { cpudist, runqslower, type HistogramMetric } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 50;
const SLEEP_MS = 4;
const sleeper = ["-c", `import sys, time\nsys.stdin.read(1)\nfor _ in range(${N}): time.sleep(${SLEEP_MS / 1000})`];

test("runqslower -P -p PID 0: one line per wake-up of the child, BCC's columns", { skip }, async () => {
  const child = pausedChild("/usr/bin/python3", sleeper);
  const t = startTool(slowerTool, ["-P", "-p", String(child.pid), "0"]);
  assert.ok(await t.waitFor(/PREV TID\n/), t.err());
  assert.equal(t.out(), "Tracing run queue latency higher than 0 us\nTIME     COMM             TID           LAT(us) PREV COMM        PREV TID\n");
  assert.equal(await child.go(), 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await t.stop(), 0);
  const lines = t.out().split("\n").slice(2).filter(Boolean);
  const mine = lines.filter((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d python3 +${child.pid} +\\d+ \\S`).test(l));
  // At least one line per sleep, less the rare sleep absorbed into a preemption on a loaded machine (the timer
  // fires while the child waits on the run queue after being preempted: no wake-up of its own).
  assert.ok(mine.length >= N * 0.9, `${mine.length} lines for ${N} wake-ups:\n${t.out()}`);
  assert.equal(mine.length, lines.length, "only the filtered process");
  await assert.rejects(runqslower({ pid: 1, tid: 1 }), /cannot be combined/);
});

test("cpudist -O -P -p PID: off-CPU periods of the child, each at least the sleep", { skip }, async () => {
  const child = pausedChild("/usr/bin/python3", sleeper);
  const t = startTool(cpudistTool, ["-O", "-P", "-p", String(child.pid), "-e"]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0);
  const out = t.out();
  assert.match(out, new RegExp(`^Tracing off-CPU time\\.\\.\\. Hit Ctrl-C to end\\.\\n\\n\\npid = ${child.pid}\\n     usecs `));
  const rows = [...out.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|/gm)].map((m) => ({ high: Number(m[2]), count: Number(m[3]) }));
  // Each sleep keeps the child off-CPU for the sleep time (less the few microseconds between arming the timer and
  // switching out), so the total is at least N sleeps. The count of periods is not exactly N on a loaded machine:
  // a child preempted after arming its timer may be woken before it switches out voluntarily, and that sleep is
  // absorbed into the preemption's off-CPU period (seen: 49 periods for 50 sleeps, total 200.4 ms).
  const long = rows.filter((r) => r.high >= SLEEP_MS * 1000 - 1).reduce((n, r) => n + r.count, 0);
  assert.ok(long >= N * 0.9, `${long} off-CPU periods of >= ${SLEEP_MS} ms for ${N} sleeps:\n${out}`);
  const total = Number(/\navg = \d+ usecs, total: (\d+) usecs, count: \d+\n/.exec(out)?.[1]);
  assert.ok(total >= N * (SLEEP_MS * 1000 - 50), `total off-CPU ${total} us for ${N} sleeps of ${SLEEP_MS} ms:\n${out}`);
});

test("cpudist as a library: on-CPU time per thread of the child", { skip }, async () => {
  const child = pausedChild("/usr/bin/python3", sleeper);
  const stream = await cpudist({ pid: child.pid, by: "tid" });
  assert.equal(await child.go(), 0);
  setTimeout(() => stream.close(), 50);
  const reports = [];
  for await (const r of stream) reports.push(r);
  const m = reports[0].metrics[0] as HistogramMetric;
  assert.equal(m.name, "oncpu_time");
  const s = m.series.find((x) => x.labels.tid === String(child.pid));
  assert.ok(s && s.count >= N, JSON.stringify(m.series));
  await assert.rejects(cpudist({ by: "cpu" as "pid" }), /by must be/);
});
