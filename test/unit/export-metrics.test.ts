// Tier 1: the metrics registry and the Prometheus text format: le bounds from log2/linear slot ranges, cumulative
// buckets, running totals across cleared intervals, labels and escaping, exposeTable over a table-like object, the
// /metrics server (reads nothing until scraped, loopback only unless allowed), OTLP data shapes, and wrong input.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MetricsRegistry, renderPrometheus, serveMetrics, exposeTable, metricName, slotRange, parseHostPort, isLoopback,
} from "../../src/export/index.js";
import { toMetricData } from "../../src/export/otlp.js";
import { TsbccError } from "../../src/errors.js";

test("log2 histogram: le = 2^i - 1 per slot, cumulative buckets, +Inf = _count, estimated _sum", () => {
  const reg = new MetricsRegistry();
  reg.histogram({ name: "tsbcc_runqlat_latency_usecs", help: "Run queue latency", unit: "usecs" }).addSlots([0, 3, 0, 5, 2]);
  const text = renderPrometheus(reg);
  assert.equal(text, [
    "# HELP tsbcc_runqlat_latency_usecs Run queue latency (usecs; _sum estimated from bucket midpoints)",
    "# TYPE tsbcc_runqlat_latency_usecs histogram",
    'tsbcc_runqlat_latency_usecs_bucket{le="0"} 0',
    'tsbcc_runqlat_latency_usecs_bucket{le="1"} 3',
    'tsbcc_runqlat_latency_usecs_bucket{le="3"} 3',
    'tsbcc_runqlat_latency_usecs_bucket{le="7"} 8',
    'tsbcc_runqlat_latency_usecs_bucket{le="15"} 10',
    'tsbcc_runqlat_latency_usecs_bucket{le="+Inf"} 10',
    // 3 * 1 + 5 * (4 + 7) / 2 + 2 * (8 + 15) / 2
    "tsbcc_runqlat_latency_usecs_sum 53.5",
    "tsbcc_runqlat_latency_usecs_count 10",
    "",
  ].join("\n"));
});

test("slot ranges: log2 matches BCC's rows, linear uses the step", () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((i) => slotRange({ kind: "log2" }, i)), [[0, 0], [1, 1], [2, 3], [4, 7], [512, 1023]]);
  assert.deepEqual(slotRange({ kind: "linear" }, 4), [4, 4]);
  assert.deepEqual(slotRange({ kind: "linear", step: 10 }, 4), [40, 49]);
});

test("cumulative across intervals: absorbed readings add up with the live one; buckets once shown stay", () => {
  const reg = new MetricsRegistry();
  let live: number[] = [0, 0, 0, 0, 0, 0, 9];
  const table = { name: "dist", entries: () => live.map((v, i) => [i, BigInt(v)] as [unknown, unknown]) };
  const exposed = exposeTable(table, { registry: reg, name: "tsbcc_t_usecs", help: "h", kind: "log2", unit: "usecs" });
  exposed.absorb(table.entries()); // the tool printed this interval, then clears its map:
  live = [0, 4];
  const [snap] = reg.collect();
  assert.equal(snap!.type, "histogram");
  const p = (snap as { points: { counts: bigint[]; count: bigint }[] }).points[0]!;
  assert.deepEqual(p.counts, [0n, 4n, 0n, 0n, 0n, 0n, 9n, 0n]);
  assert.equal(p.count, 13n);
  exposed.absorb(table.entries()); // next interval: printed and cleared again
  live = [];
  exposed.absorb([[1, 1n]]);
  assert.match(renderPrometheus(reg), /_bucket\{le="63"\} 14\n/); // slot 6 still shown after the map emptied
});

test("struct keys give one labelled series per section; exact sums replace the estimate", () => {
  const reg = new MetricsRegistry();
  const entries = [[{ disk: "vda", slot: 2 }, 3n], [{ disk: "vdb", slot: 1 }, 1n], [{ disk: "vda", slot: 1 }, 2n]];
  exposeTable({ name: "d", entries: () => entries as [unknown, unknown][] }, { registry: reg, name: "tsbcc_biolatency_usecs", help: "h", kind: "log2" });
  const text = renderPrometheus(reg);
  assert.match(text, /tsbcc_biolatency_usecs_bucket\{disk="vda",le="3"\} 5\n/);
  assert.match(text, /tsbcc_biolatency_usecs_count\{disk="vdb"\} 1\n/);
  const h = new MetricsRegistry().histogram({ name: "x", help: "h" }).addSlots([0, 1]).addSum(0.5);
  const [snap] = [h.collect()];
  assert.equal((snap as { points: { sum: number; sumEstimated: boolean }[] }).points[0]!.sum, 0.5);
});

test("counters per key: default labels from struct fields, per-CPU values summed, escaping", () => {
  const reg = new MetricsRegistry();
  const entries: [unknown, unknown][] = [[{ pid: 7, comm: 'a"b\\c\nd', __pad_1: 0 }, [1n, 2n, 3n]], [{ pid: 8, comm: "sh" }, 5n]];
  exposeTable({ name: "c", entries: () => entries }, { registry: reg, name: metricName("syscount", "calls_total"), help: "calls\nper process" });
  const text = renderPrometheus(reg);
  assert.equal(text, [
    "# HELP tsbcc_syscount_calls_total calls\\nper process",
    "# TYPE tsbcc_syscount_calls_total counter",
    'tsbcc_syscount_calls_total{pid="7",comm="a\\"b\\\\c\\nd"} 6',
    'tsbcc_syscount_calls_total{pid="8",comm="sh"} 5',
    "",
  ].join("\n"));
  const g = reg.gauge({ name: "tsbcc_x_queue_depth", help: "depth" }).live(() => [[{ cpu: "0" }, 3]]);
  assert.equal(g.collect().type, "gauge");
});

test("wrong input is refused with BAD_ARGUMENT naming the argument", () => {
  const reg = new MetricsRegistry();
  const bad = (fn: () => unknown, argument: string) =>
    assert.throws(fn, (e: unknown) => e instanceof TsbccError && e.code === "BAD_ARGUMENT" && (e as { argument?: string }).argument === argument);
  bad(() => reg.histogram({ name: "1bad", help: "" }), "name");
  reg.counter({ name: "dup", help: "" });
  bad(() => reg.counter({ name: "dup", help: "" }), "name");
  bad(() => reg.histogram({ name: "h", help: "", scale: { kind: "linear", step: 0 } }), "scale.step");
  bad(() => reg.histogram({ name: "h2", help: "" }).addSlots([1.5]), "slots");
  bad(() => reg.histogram({ name: "h3", help: "" }).addSlots([1], { le: "x" }), "labels");
  bad(() => reg.counter({ name: "c2", help: "" }).add({}, -1), "value");
  bad(() => reg.counter({ name: "c3", help: "" }).add({ "bad-name": "x" }, 1), "labels");
  bad(() => exposeTable({} as never, { registry: reg, name: "t", help: "" }), "table");
  bad(() => exposeTable({ name: "t", entries: () => [] }, { registry: {} as never, name: "t", help: "" }), "registry");
  bad(() => exposeTable({ name: "t", entries: () => [] }, { registry: reg, name: "t", help: "", kind: "pie" as never }), "kind");
  bad(() => metricName("", "x"), "tool");
  bad(() => parseHostPort("nohostport"), "address");
  bad(() => parseHostPort("127.0.0.1:70000", "--prometheus"), "--prometheus");
  // A table value that is not a count fails at collect time, naming the option that fixes it.
  exposeTable({ name: "t", entries: () => [[1, { a: 1, b: 2 }]] }, { registry: reg, name: "t", help: "" });
  bad(() => reg.collect(), "value");
});

test("HOST:PORT parsing and the loopback rule", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:9100"), { host: "127.0.0.1", port: 9100 });
  assert.deepEqual(parseHostPort(":9100"), { host: "127.0.0.1", port: 9100 });
  assert.deepEqual(parseHostPort("[::1]:9"), { host: "::1", port: 9 });
  assert.ok(isLoopback("localhost") && isLoopback("127.1.2.3") && isLoopback("::1"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("10.0.0.1") && !isLoopback("example.com"));
});

test("/metrics server: nothing is read until a scrape; non-loopback refused unless allowed; 404 elsewhere", async () => {
  const reg = new MetricsRegistry();
  let reads = 0;
  reg.counter({ name: "tsbcc_t_reads_total", help: "h" }).live(() => [[{}, ++reads]]);
  const srv = await serveMetrics(reg, { port: 0 });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(reads, 0, "collected without a scrape");
    const res = await fetch(`${srv.url}/metrics`);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    assert.match(await res.text(), /^tsbcc_t_reads_total 1$/m);
    assert.equal(srv.scrapes, 1);
    assert.equal((await fetch(`${srv.url}/other`)).status, 404);
  } finally {
    await srv.close();
  }
  await assert.rejects(serveMetrics(reg, { host: "0.0.0.0", port: 0 }), { code: "BAD_ARGUMENT", argument: "host" });
  const open = await serveMetrics(reg, { host: "0.0.0.0", port: 0, allowRemote: true });
  try {
    await assert.rejects(serveMetrics(reg, { port: open.port }), { code: "LISTEN" });
  } finally {
    await open.close();
  }
  await assert.rejects(serveMetrics({} as never), { code: "BAD_ARGUMENT", argument: "registry" });
});

test("OTLP data: explicit-bucket histograms and monotonic cumulative sums from a snapshot", async () => {
  const sdk = await import("@opentelemetry/sdk-metrics");
  const reg = new MetricsRegistry();
  reg.histogram({ name: "tsbcc_h_usecs", help: "h", unit: "usecs" }).addSlots([0, 2, 1]);
  reg.counter({ name: "tsbcc_c_total", help: "c" }).add({ comm: "sh" }, 4n);
  const [h, c] = toMetricData(sdk, reg.collect(), 1000, 2000);
  assert.equal(h!.dataPointType, sdk.DataPointType.HISTOGRAM);
  assert.deepEqual((h!.dataPoints[0]!.value as { buckets: unknown }).buckets, { boundaries: [0, 1, 3], counts: [0, 2, 1, 0] });
  assert.equal((h!.dataPoints[0]!.value as { sum?: number }).sum, undefined); // estimated sums stay out of OTLP
  assert.equal(c!.dataPointType, sdk.DataPointType.SUM);
  assert.equal((c as { isMonotonic: boolean }).isMonotonic, true);
  assert.deepEqual(c!.dataPoints[0]!.attributes, { comm: "sh" });
  assert.deepEqual(c!.dataPoints[0]!.startTime, [1, 0]);
  const { startOtlpPush } = await import("../../src/export/otlp.js");
  await assert.rejects(startOtlpPush(reg, { url: "ftp://x" }), { code: "BAD_ARGUMENT", argument: "url" });
  await assert.rejects(startOtlpPush(reg, { url: "http://127.0.0.1:1/v1/metrics", intervalMs: 1 }), { code: "BAD_ARGUMENT", argument: "intervalMs" });
});

test("startExporters: --prometheus and --otlp from one registry; a bad --otlp closes the server it opened", async () => {
  const { startExporters } = await import("../../src/export/index.js");
  const { createServer } = await import("node:http");
  const reg = new MetricsRegistry();
  reg.counter({ name: "tsbcc_t_events_total", help: "h" }).add({ comm: "sh" }, 3);
  const pushes: string[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d)).on("end", () => {
      pushes.push(body);
      res.end("{}");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const logged: string[] = [];
  const ex = await startExporters(reg, {
    prometheus: "127.0.0.1:0", otlp: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/metrics`,
    log: (l) => logged.push(l),
  });
  try {
    assert.match(await (await fetch(`${ex.prometheus!.url}/metrics`)).text(), /^tsbcc_t_events_total\{comm="sh"\} 3$/m);
  } finally {
    await ex.close(); // the last push
    receiver.close();
  }
  assert.equal(pushes.length, 1);
  assert.match(pushes[0]!, /"name":"tsbcc_t_events_total"/);
  assert.equal(logged.length, 2);
  const probe = await serveMetrics(reg, { port: 0 });
  const port = probe.port;
  await probe.close();
  await assert.rejects(startExporters(reg, { prometheus: `127.0.0.1:${port}`, otlp: "nope" }), { code: "BAD_ARGUMENT", argument: "url" });
  await (await serveMetrics(reg, { port })).close(); // the port was released again
  await assert.rejects(startExporters(reg, { prometheus: "10.1.2.3:9100" }), { code: "BAD_ARGUMENT", argument: "host" });
});

test("OTLP: a base URL gets /v1/metrics; a failed push reaches onError", async () => {
  const { metricsUrl, startOtlpPush } = await import("../../src/export/otlp.js");
  assert.equal(metricsUrl("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/metrics");
  assert.equal(metricsUrl("http://c:4318/custom/path"), "http://c:4318/custom/path");
  const reg = new MetricsRegistry();
  reg.counter({ name: "tsbcc_t_total", help: "h" }).add({}, 1);
  const probe = await serveMetrics(reg, { port: 0 });
  const port = probe.port;
  await probe.close(); // nothing listens there now
  const errors: string[] = [];
  const pusher = await startOtlpPush(reg, { url: `http://127.0.0.1:${port}`, onError: (m) => errors.push(m) });
  const t0 = Date.now();
  await pusher.close();
  assert.ok(errors.length > 0, "no error reported");
  assert.match(errors.join("\n"), /ECONNREFUSED|export|fail/i);
  assert.ok(Date.now() - t0 < 30_000);
});
