// Tier 2: the runqlat-like tool pushes OTLP/HTTP with the OpenTelemetry SDK (--otlp URL) to a receiver in this test;
// the last push decodes to the numbers the tool printed (per-bucket counts, bounds, count) and the getppid counter
// holds exactly the child's 1000 calls. Also: the push carries service.name and cumulative temporality.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startRunqlatFixture, sumPrintedHistograms } from "../helpers/export-fixture.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed" : process.getuid?.() !== 0 ? "needs root" : false;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

function findMetric(body: Json, name: string): Json {
  for (const rm of body.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) if (m.name === name) return m;
  }
  return undefined;
}

test("OTLP push decodes to the printed histogram and the exact counter", { skip, timeout: 120_000 }, async (t) => {
  const bodies: Json[] = [];
  const paths: string[] = [];
  const receiver = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      paths.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      bodies.push(JSON.parse(data));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/metrics`;
  const tool = startRunqlatFixture(["--otlp", url, "--otlp-interval", "500", "--interval", "600"]);
  try {
    await tool.waitFor("ready");
    const loop = pausedChild(syscallLoop("getppid"), ["1000"]);
    assert.equal(await loop.go(), 0);
    await new Promise((r) => setTimeout(r, 2000));
    const printed = sumPrintedHistograms(await tool.stop(true));
    const total = [...printed.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 0);
    assert.ok(bodies.length >= 2, `expected periodic pushes, got ${bodies.length}`);
    t.diagnostic(`${bodies.length} pushes: ${paths[0]}`);
    assert.match(paths[0]!, /^POST \/v1\/metrics application\/json/);

    const last = bodies[bodies.length - 1];
    const attrs = last.resourceMetrics[0].resource.attributes;
    assert.ok(attrs.some((a: Json) => a.key === "service.name" && a.value.stringValue === "tsbcc"));
    const hist = findMetric(last, "tsbcc_runqlat_latency_usecs");
    assert.equal(hist.unit, "usecs");
    assert.equal(hist.histogram.aggregationTemporality, 2); // CUMULATIVE
    const [point] = hist.histogram.dataPoints;
    assert.equal(Number(point.count), total);
    const bounds: number[] = point.explicitBounds;
    const counts: number[] = point.bucketCounts.map(Number);
    assert.equal(counts.length, bounds.length + 1);
    bounds.forEach((le, i) => assert.equal(counts[i], printed.get(le) ?? 0, `bucket le=${le}`));
    assert.equal(counts[bounds.length], 0);
    for (const high of printed.keys()) assert.ok(bounds.includes(high), `no bound ${high}`);

    const calls = findMetric(last, "tsbcc_syscount_getppid_calls_total");
    assert.equal(calls.sum.isMonotonic, true);
    const mine = calls.sum.dataPoints.find((p: Json) => p.attributes.some((a: Json) => a.key === "pid" && a.value.stringValue === String(loop.pid)));
    assert.ok(mine, "no data point for the child's pid");
    assert.equal(Number(mine.asDouble ?? mine.asInt), 1000);
  } finally {
    await tool.kill();
    receiver.close();
  }
});
