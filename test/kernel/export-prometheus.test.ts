// Tier 2: a real Prometheus server (Debian's prometheus, 1 s scrape interval) scrapes a runqlat-like tool that
// serves --prometheus; PromQL through Prometheus' HTTP API returns the histogram buckets with the counts the tool
// printed (summed over its intervals, since the metric is cumulative while the tool clears its map each interval),
// and the per-process counter holds exactly the child's 1000 getppid calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { cumulativeAt, startRunqlatFixture, sumPrintedHistograms } from "../helpers/export-fixture.js";
import { havePrometheus, startPrometheus } from "../helpers/prometheus.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed"
  : process.getuid?.() !== 0 ? "needs root"
  : !havePrometheus ? "Debian's prometheus package is not installed (scripts/setup.sh installs it)" : false;

const NAME = "tsbcc_runqlat_latency_usecs";

test("Prometheus scrapes --prometheus: buckets match the printed histograms, counter matches the child", { skip, timeout: 120_000 }, async (t) => {
  const tool = startRunqlatFixture(["--prometheus", "127.0.0.1:0", "--interval", "700"]);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    const target = /listening http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(await tool.waitFor(/listening \S+\n/))![1]!;
    await tool.waitFor("ready");
    prom = await startPrometheus([target]);
    const loop = pausedChild(syscallLoop("getppid"), ["1000"]);
    assert.equal(await loop.go(), 0);
    // Several intervals and several scrapes while the system schedules (Prometheus itself makes wake-ups).
    await new Promise((r) => setTimeout(r, 3500));
    const printed = sumPrintedHistograms(await tool.stop());
    const total = [...printed.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 0, "the tool printed no run queue latencies");

    // Wait for a scrape after the freeze: the +Inf bucket then equals everything printed.
    let buckets: [Record<string, string>, number][] = [];
    for (let i = 0; i < 100; i++) {
      buckets = await prom.query(NAME + "_bucket");
      if (buckets.find(([l]) => l.le === "+Inf")?.[1] === total) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.diagnostic(`printed ${total} latencies in ${printed.size} buckets; Prometheus has ${buckets.length} bucket series`);
    assert.equal(buckets.find(([l]) => l.le === "+Inf")?.[1], total);
    for (const [labels, value] of buckets) {
      if (labels.le === "+Inf") continue;
      assert.equal(value, cumulativeAt(printed, Number(labels.le)), `bucket le=${labels.le}`);
    }
    // Every printed row has its own bucket bound.
    const les = new Set(buckets.map(([l]) => Number(l.le)));
    for (const high of printed.keys()) assert.ok(les.has(high), `no bucket le=${high}`);
    assert.deepEqual((await prom.query(NAME + "_count")).map(([, v]) => v), [total]);

    const calls = await prom.query(`tsbcc_syscount_getppid_calls_total{pid="${loop.pid}"}`);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![1], 1000);
    assert.equal(calls[0]![0].comm, syscallLoop("getppid").split("/").pop()!.slice(0, 15));
  } finally {
    await prom?.stop();
    await tool.kill();
  }
});
