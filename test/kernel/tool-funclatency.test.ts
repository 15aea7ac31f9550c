// Tier 2: funclatency times a test binary's own function (uprobe + uretprobe): N calls that each sleep 2 ms give a
// histogram whose count is N, all at or above 1024 us, with BCC's avg/total/count line; -F splits per function.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/funclatency.js";
import { funclatency, type HistogramMetric } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 40;
const US = 2000;

test("funclatency -u -p PID BIN:tsbcc_work: N samples, all >= 1024 us, avg >= the sleep", { skip }, async () => {
  const child = pausedChild(caller(), [String(N), String(US)]);
  const t = startTool(tool, ["-u", "-p", String(child.pid), `${caller()}:tsbcc_work`]);
  assert.ok(await t.waitFor(/^Tracing 1 functions for ".*:tsbcc_work"\.\.\. Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  assert.match(out, /\n     usecs               : count     distribution\n/);
  let count = 0;
  for (const m of out.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|/gm)) {
    if (Number(m[3]) > 0) assert.ok(Number(m[1]) >= 1024, `bucket ${m[1]}->${m[2]} has ${m[3]}:\n${out}`);
    count += Number(m[3]);
  }
  assert.equal(count, N, out);
  const avg = /\navg = (\d+) usecs, total: (\d+) usecs, count: (\d+)\n/.exec(out);
  assert.ok(avg, out);
  assert.equal(Number(avg[3]), N);
  assert.ok(Number(avg[1]) >= US, avg[0]);
  assert.match(out, /\nDetaching\.\.\.\n$/);
});

test("funclatency as a library: per-function series for a wildcard; wrong input", { skip }, async () => {
  const child = pausedChild(caller(), ["10", "100"]);
  const stream = await funclatency({ pattern: `${caller()}:tsbcc_*`, pid: child.pid, perFunction: true, unit: "usecs" });
  assert.deepEqual(stream.targets, ["tsbcc_driver", "tsbcc_work"]);
  await child.go();
  stream.close();
  const reports = [];
  for await (const r of stream) reports.push(r);
  const m = reports[0]!.metrics[0] as HistogramMetric;
  const counts = Object.fromEntries(m.series.map((s) => [s.labels.function, s.count]));
  assert.deepEqual(counts, { tsbcc_driver: 1, tsbcc_work: 10 });
  const driver = m.series.find((s) => s.labels.function === "tsbcc_driver")!;
  assert.ok(driver.sum! >= 10 * 100, `driver took ${driver.sum} us for 10 calls of 100 us`);
  await assert.rejects(funclatency({ pattern: "t:sched:sched_switch" }), /not supported by funclatency/);
  await assert.rejects(funclatency({ pattern: "c:getpid", unit: "secs" as "usecs" }), /unit must be/);
  const bad = startTool(tool, ["-u", "-m", "c:getpid"]);
  assert.equal(await bad.done, 2);
});
