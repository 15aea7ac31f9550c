// Tier 2: runqlat's histogram fills from real wake-ups: a child that sleeps N times is woken N times, and each
// wake-up ends in one run-queue latency sample in that child's section.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/runqlat.js";
import { runqlat, type HistogramMetric } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 100;
const sleeper = ["-c", `import sys, time\nsys.stdin.read(1)\nfor _ in range(${N}): time.sleep(0.002)`];

test("runqlat -P -p PID: the child's section counts at least its N wake-ups, BCC's layout", { skip }, async () => {
  const child = pausedChild("/usr/bin/python3", sleeper);
  const t = startTool(tool, ["-P", "-p", String(child.pid)]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0);
  const out = t.out();
  assert.match(out, new RegExp(`^Tracing run queue latency\\.\\.\\. Hit Ctrl-C to end\\.\\n\\n\\npid = ${child.pid}\\n     usecs               : count     distribution\\n`));
  assert.equal(out.match(/pid = /g)?.length, 1, "only the filtered process");
  let total = 0;
  for (const m of out.matchAll(/^ +\d+ -> \d+ +: (\d+) +\|[* ]{40}\|$/gm)) total += Number(m[1]);
  // A timer that fires before the child has left the CPU wakes a task that is still running: sched_wakeup fires but
  // no switch follows, so that wake-up leaves no sample; a child preempted right after arming its timer is woken
  // while it waits on the run queue, so two waits make one sample. Both are rare, and commoner on a loaded machine.
  assert.ok(total >= N * 0.9, `${total} samples for ${N} wake-ups:\n${out}`);
});

test("runqlat as a library: interval reports in msecs with per-thread labels", { skip }, async () => {
  const child = pausedChild("/usr/bin/python3", sleeper);
  const stream = await runqlat({ pid: child.pid, by: "tid", milliseconds: true, interval: 0.2 });
  const done = child.go();
  const reports = [];
  let counted = 0;
  for await (const r of stream) {
    reports.push(r);
    counted += (r.metrics[0] as HistogramMetric).series.reduce((n, s) => n + s.count, 0);
    if (reports.length === 1) await done;
    // Every wake-up is in some interval; on a loaded machine the last ones may land a few intervals later.
    if (reports.length >= 3 && (counted >= N || reports.length >= 25)) stream.close();
  }
  assert.ok(reports.length >= 3);
  const series = reports.flatMap((r) => (r.metrics[0] as HistogramMetric).series);
  assert.ok(series.every((s) => s.labels.tid === String(child.pid)), JSON.stringify(series.map((s) => s.labels)));
  assert.ok(series.reduce((n, s) => n + s.count, 0) >= N * 0.9, "at least 90% of the wake-ups (see above)");
  assert.equal((reports[0].metrics[0] as HistogramMetric).unit, "msecs");
  await assert.rejects(runqlat({ by: "cpu" as "pid" }), /by must be/);
});
