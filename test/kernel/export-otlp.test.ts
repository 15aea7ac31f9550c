// Tier 2: the real tools push OTLP/HTTP with the OpenTelemetry SDK (--otlp URL) to a receiver in this test.
// `tsbcc syscount -L -p CHILD` while the child makes exactly 1000 getppid calls: the last push (at exit) decodes to
// the counts and times the tool printed, getppid = 1000, as cumulative monotonic sums with service.name "tsbcc";
// syscount prints only at Ctrl-C, so the pushes before it carry what the framework read meanwhile (partial sums).
// `tsbcc runqlat --otlp URL 1 3`: the pushed histogram is the three printed intervals summed, bucket by bucket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { printedIntervals, startCli, sumIntervals } from "../helpers/tsbcc-cli.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed" : process.getuid?.() !== 0 ? "needs root" : false;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

function findMetric(body: Json, name: string): Json {
  for (const rm of body.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) if (m.name === name) return m;
  }
  return undefined;
}

const attr = (p: Json, key: string): string | undefined => p.attributes.find((a: Json) => a.key === key)?.value.stringValue;
const num = (p: Json): number => Number(p.asDouble ?? p.asInt);

/** A local OTLP/HTTP (JSON) receiver: every pushed body, decoded. */
async function receiver(): Promise<{ server: Server; url: string; bodies: Json[]; requests: string[] }> {
  const bodies: Json[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      requests.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      bodies.push(JSON.parse(data));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bodies, requests };
}

test("tsbcc syscount --otlp: the pushed counters are the printed counts, getppid exactly 1000", { skip, timeout: 120_000 }, async (t) => {
  const rx = await receiver();
  const loop = pausedChild(syscallLoop("getppid"), ["1000"]);
  const tool = startCli(["syscount", "-L", "-p", String(loop.pid), "--otlp", rx.url, "--otlp-interval", "0.5"]);
  try {
    await tool.waitFor(/pushing OTLP metrics to/);
    await tool.waitFor(/Tracing syscalls/);
    assert.equal(await loop.go(), 0);
    // Two periodic pushes (0.5 s apart when the machine is idle; later on a loaded one), then the one at exit.
    for (const end = Date.now() + 60_000; rx.bodies.length < 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await tool.interrupt(), 0);
    const rows = [...tool.out().matchAll(/^(\w+)\s+(\d+)\s+([\d.]+)$/gm)].map((m) => ({ syscall: m[1]!, count: Number(m[2]), us: Number(m[3]) }));
    t.diagnostic(`${rx.bodies.length} pushes (${rx.requests[0]}); printed ${rows.map((r) => `${r.syscall}=${r.count}`).join(" ")}`);
    assert.ok(rx.bodies.length >= 3, `expected periodic pushes and one at exit, got ${rx.bodies.length}`);
    assert.match(rx.requests[0]!, /^POST \/v1\/metrics application\/json/);
    const last = rx.bodies.at(-1);
    assert.ok(last.resourceMetrics[0].resource.attributes.some((a: Json) => a.key === "service.name" && a.value.stringValue === "tsbcc"));

    const calls = findMetric(last, "tsbcc_syscount_syscalls_total");
    const times = findMetric(last, "tsbcc_syscount_syscall_time_usecs_total");
    assert.equal(calls.sum.isMonotonic, true);
    assert.equal(calls.sum.aggregationTemporality, 2); // CUMULATIVE
    assert.equal(times.unit, "usecs");
    const pushed = (m: Json, syscall: string): number | undefined => {
      const p = m.sum.dataPoints.find((d: Json) => attr(d, "syscall") === syscall);
      return p && num(p);
    };
    assert.equal(pushed(calls, "getppid"), 1000);
    assert.ok(rows.some((r) => r.syscall === "getppid" && r.count === 1000), "syscount did not print getppid 1000");
    for (const r of rows) {
      assert.equal(pushed(calls, r.syscall), r.count, r.syscall);
      assert.ok(Math.abs(pushed(times, r.syscall)! - r.us) < 0.002, `${r.syscall}: pushed ${pushed(times, r.syscall)} us, printed ${r.us}`);
    }
    // Pushes while the tool ran carried cumulative partial sums, never more than the end result.
    const getppid = rx.bodies.map((b) => findMetric(b, "tsbcc_syscount_syscalls_total")).filter(Boolean).map((m) => pushed(m, "getppid") ?? 0);
    assert.deepEqual(getppid, [...getppid].sort((a, b) => a - b));
  } finally {
    await tool.interrupt();
    rx.server.close();
  }
});

test("tsbcc runqlat --otlp: the pushed histogram is the printed intervals summed", { skip, timeout: 120_000 }, async (t) => {
  const rx = await receiver();
  const tool = startCli(["runqlat", "--otlp", `${rx.url}/v1/metrics`, "--otlp-interval", "0.5", "1", "3"]);
  try {
    assert.equal(await tool.exited, 0);
    const printed = printedIntervals(tool.out());
    assert.equal(printed.length, 3);
    const sums = sumIntervals(printed);
    const total = [...sums.values()].reduce((a, b) => a + b, 0);
    const hist = findMetric(rx.bodies.at(-1), "tsbcc_runqlat_runq_latency_usecs");
    t.diagnostic(`${rx.bodies.length} pushes; printed ${total} latencies in ${sums.size} buckets`);
    assert.equal(hist.unit, "usecs");
    assert.equal(hist.histogram.aggregationTemporality, 2);
    const [point] = hist.histogram.dataPoints;
    assert.equal(Number(point.count), total);
    const bounds: number[] = point.explicitBounds;
    const counts: number[] = point.bucketCounts.map(Number);
    assert.equal(bounds[0], 1, "the first bucket is BCC's 0 -> 1");
    assert.equal(counts.length, bounds.length + 1);
    bounds.forEach((le, i) => assert.equal(counts[i], sums.get(le) ?? 0, `bucket le=${le}`));
    assert.equal(counts[bounds.length], 0);
    for (const high of sums.keys()) assert.ok(bounds.includes(high), `no bound ${high}`);
  } finally {
    await tool.interrupt();
    rx.server.close();
  }
});
