// Tier 2: runqlen samples run queue lengths with cpu-clock perf events: with three busy children pinned to CPU 0
// (taskset), CPU 0's histogram fills and shows tasks waiting (length >= 1 in most samples), -O's occupancy is
// positive, and the text follows BCC's linear histogram layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { tool } from "../../src/tools/runqlen.js";
import { runqlen, type CounterMetric, type HistogramMetric } from "../../src/tools/index.js";
import { hasTool } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = (await toolSkip()) || (!hasTool("taskset") && "taskset is needed");

function spinners(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" }));
}

test("runqlen -C with three spinners on CPU 0: CPU 0's queue has waiting tasks", { skip }, async () => {
  const kids = spinners(3);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const t = startTool(tool, ["-C", "1", "1"]);
    assert.equal(await t.done, 0, t.err());
    const out = t.out();
    assert.match(out, /^Sampling run queue length\.\.\. Hit Ctrl-C to end\.\n/);
    const cpu0 = /\ncpu = 0\n     runqlen +: count     distribution\n((?: +\d+ +: \d+ +\|[* ]{40}\|\n)+)/.exec(out);
    assert.ok(cpu0, out);
    const rows = [...cpu0[1].matchAll(/^ +(\d+) +: (\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    const total = rows.reduce((n, [, c]) => n + c, 0);
    const waiting = rows.filter(([len]) => len >= 1).reduce((n, [, c]) => n + c, 0);
    assert.ok(total >= 10, `${total} samples on CPU 0:\n${out}`);
    assert.ok(waiting * 2 >= total, `${waiting} of ${total} samples with a waiting task:\n${out}`);
  } finally {
    for (const k of kids) k.kill("SIGKILL");
  }
});

test("runqlen as a library: occupancy gauge per CPU; wrong input", { skip }, async () => {
  const kids = spinners(2);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const stream = await runqlen({ perCpu: true, interval: 0.7, count: 1 });
    const reports = [];
    for await (const r of stream) reports.push(r);
    const hist = reports[0]!.metrics[0] as HistogramMetric;
    assert.equal(hist.scale, "linear");
    const occ = reports[0]!.metrics[1] as CounterMetric;
    const cpu0 = occ.series.find((s) => s.labels.cpu === "0");
    assert.ok(cpu0 && cpu0.value > 0, JSON.stringify(occ));
  } finally {
    for (const k of kids) k.kill("SIGKILL");
  }
  await assert.rejects(runqlen({ interval: 0 }), /interval must be positive/);
});
