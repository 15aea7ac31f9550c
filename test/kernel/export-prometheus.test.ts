// Tier 2: a real Prometheus server (Debian's prometheus, 1 s scrape interval, loopback port, temporary storage)
// scrapes the real `tsbcc runqlat --prometheus 127.0.0.1:PORT 2` while this test makes wake-ups. Every scrape stored
// (read back with PromQL through Prometheus' HTTP API) holds exactly the histogram the tool printed, summed over the
// intervals printed before it (the metric is cumulative; the tool clears its map each interval), and Prometheus saw
// the sums after 1, 2 and 3 intervals. HELP and TYPE arrive as a histogram with help text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { haveClang } from "../helpers/build.js";
import { freePort, havePrometheus, startPrometheus } from "../helpers/prometheus.js";
import { cumulativeAt, printedIntervals, startCli, sumIntervals } from "../helpers/tsbcc-cli.js";

const skip = !haveClang ? "clang is needed"
  : process.getuid?.() !== 0 ? "needs root"
  : !havePrometheus ? "Debian's prometheus package is not installed (scripts/setup.sh installs it)" : false;

const NAME = "tsbcc_runqlat_runq_latency_usecs";

/** Each scrape of the _bucket series (one timestamp), as le -> cumulative count. */
function scrapes(series: [Record<string, string>, [number, number][]][]): Map<number, Map<string, number>> {
  const byTime = new Map<number, Map<string, number>>();
  for (const [labels, values] of series) {
    for (const [t, v] of values) {
      if (!byTime.has(t)) byTime.set(t, new Map());
      byTime.get(t)!.set(labels.le!, v);
    }
  }
  return byTime;
}

/** How many printed intervals a scrape holds: the k whose sums equal every bucket, or -1 when none does. */
function intervalsIn(scrape: Map<string, number>, printed: Map<number, number>[]): number {
  for (let k = printed.length; k >= 1; k--) {
    const sums = sumIntervals(printed, k);
    const total = [...sums.values()].reduce((a, b) => a + b, 0);
    if ([...scrape].every(([le, v]) => v === (le === "+Inf" ? total : cumulativeAt(sums, Number(le))))) return k;
  }
  return -1;
}

test("Prometheus scrapes tsbcc runqlat --prometheus: every scrape equals the printed histograms summed", { skip, timeout: 120_000 }, async (t) => {
  // Prometheus first (it takes seconds to start), scraping a port picked for the tool: it sees the first interval.
  const target = `127.0.0.1:${await freePort()}`;
  const prom = await startPrometheus([target]);
  // Prometheus applies its targets a few seconds after start: wait for its first (failing) scrape, so scrapes every
  // second are under way when the tool's first interval ends.
  for (let i = 0; i < 300 && (await prom.query('up{job="tsbcc"}')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const tool = startCli(["runqlat", "--prometheus", target, "2"]);
  try {
    await tool.waitFor(new RegExp(`serving Prometheus metrics at http://${target}/metrics`));
    await tool.waitFor(/Tracing run queue latency/);
    // Wake-ups besides the system's own: 300 short sleeps, each a wake-up that passes through a run queue.
    const sleeps = spawn("sh", ["-c", "i=0; while [ $i -lt 300 ]; do sleep 0.005; i=$((i+1)); done"], { stdio: "ignore" });
    await tool.waitFor(/(usecs\s+: count[^]*){3}/, 30_000);
    // Wait until Prometheus has stored a scrape taken after the third interval.
    let seen = new Set<number>();
    for (let i = 0; i < 150 && !seen.has(3); i++) {
      const printed = printedIntervals(tool.out());
      seen = new Set([...scrapes(await prom.samples(`${NAME}_bucket[5m]`)).values()].map((s) => intervalsIn(s, printed)));
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await tool.interrupt(), 0);
    sleeps.kill();

    const printed = printedIntervals(tool.out());
    const stored = scrapes(await prom.samples(`${NAME}_bucket[5m]`));
    const held = [...stored.values()].map((s) => intervalsIn(s, printed));
    t.diagnostic(`${printed.length} intervals printed (${printed.map((p) => [...p.values()].reduce((a, b) => a + b, 0)).join(", ")} latencies); ` +
      `${stored.size} scrapes stored, holding ${held.join(",")} intervals`);
    assert.ok(stored.size >= 3, `only ${stored.size} scrapes`);
    assert.ok(!held.includes(-1), "a scrape differs from every sum of printed intervals");
    for (const k of [1, 2, 3]) assert.ok(held.includes(k), `no scrape holds the sum of the first ${k} intervals`);
    // Every bucket row the tool printed has its own `le` series, and _count matches +Inf.
    const les = new Set([...stored.values()].flatMap((s) => [...s.keys()]));
    for (const high of sumIntervals(printed, 3).keys()) assert.ok(les.has(String(high)), `no bucket le=${high}`);
    const counts = (await prom.samples(`${NAME}_count[5m]`))[0]![1].map(([, v]) => v);
    const infs = [...stored].sort((a, b) => a[0] - b[0]).map(([, s]) => s.get("+Inf"));
    assert.deepEqual(counts, infs);
    const meta = await prom.metadata(NAME);
    assert.equal(meta[0]?.type, "histogram");
    assert.match(meta[0]?.help ?? "", /runnable tasks waited for a CPU \(usecs/);
  } finally {
    await prom.stop();
    await tool.interrupt();
  }
});
