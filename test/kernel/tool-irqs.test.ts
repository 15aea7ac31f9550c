// Tier 2: softirqs and hardirqs account real interrupts: loopback TCP traffic runs NET_RX soft interrupts, disk
// writes raise the disk's hard interrupts (named as in /proc/interrupts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { tool as softTool } from "../../src/tools/softirqs.js";
import { tool as hardTool } from "../../src/tools/hardirqs.js";
import { hardirqs, softirqs, type CounterMetric } from "../../src/tools/index.js";
import { directWrites, diskOf } from "../helpers/disk.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

async function loopbackTraffic(bytes: number): Promise<void> {
  const server = createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  const chunk = new Uint8Array(64 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!sock.write(chunk)) await new Promise((r) => sock.once("drain", r));
  await new Promise<void>((r) => sock.end(r));
  server.close();
}

test("softirqs -C counts NET_RX events caused by loopback traffic; BCC's table", { skip }, async () => {
  const t = startTool(softTool, ["-C"]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  await loopbackTraffic(4 << 20);
  assert.equal(await t.stop(), 0);
  const out = t.out();
  assert.match(out, /^Tracing soft irq event count\.\.\. Hit Ctrl-C to end\.\n\nSOFTIRQ +TOTAL_count\n/);
  const row = /^net_rx +(\d+)$/m.exec(out);
  assert.ok(row && Number(row[1]) > 0, out);
});

test("softirqs as a library (-d): NET_RX time histogram in nanoseconds", { skip }, async () => {
  const stream = await softirqs({ mode: "dist", nanoseconds: true });
  await loopbackTraffic(4 << 20);
  stream.close();
  const reports = [];
  for await (const r of stream) reports.push(r);
  const m = reports[0].metrics[0];
  assert.equal(m.kind, "histogram");
  assert.equal(m.unit, "nsecs");
  const netRx = m.series.find((s) => s.labels.softirq === "net_rx");
  assert.ok(netRx && netRx.count > 0, JSON.stringify(m.series.map((s) => s.labels)));
  await assert.rejects(softirqs({ cpu: -1 }), /cpu must be/);
});

const where = diskOf("/var/tmp");
test("hardirqs -C: disk writes raise interrupts of handlers /proc/interrupts names", { skip: skip || ("reason" in where && where.reason) }, async () => {
  const dir = mkdtempSync("/var/tmp/tsbcc-hardirqs-");
  try {
    const stream = await hardirqs({ mode: "count" });
    directWrites(join(dir, "data"), 100);
    stream.close();
    const reports = [];
    for await (const r of stream) reports.push(r);
    const m = reports[0].metrics[0] as CounterMetric;
    assert.equal(m.name, "hardirq_events");
    const total = m.series.reduce((n, s) => n + s.value, 0);
    assert.ok(total > 0, JSON.stringify(m.series));
    const procInterrupts = readFileSync("/proc/interrupts", "utf8");
    for (const s of m.series) assert.ok(procInterrupts.includes(s.labels.hardirq), `${s.labels.hardirq} in /proc/interrupts`);
    const t = startTool(hardTool, ["-N", "0.3", "1"]);
    assert.equal(await t.done, 0);
    assert.match(t.out(), /^Tracing hard irq event time\.\.\. Hit Ctrl-C to end\.\n\nHARDIRQ +TOTAL_nsecs\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
