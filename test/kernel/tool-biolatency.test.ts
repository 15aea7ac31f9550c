// Tier 2: biolatency fills its histogram from real block I/O: N synchronous O_DIRECT writes to the disk under
// /var/tmp show up as at least N completions in that disk's section, in BCC's layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tool } from "../../src/tools/biolatency.js";
import { biolatency, rwbsFlags, type HistogramMetric } from "../../src/tools/index.js";
import { directWrites, diskOf } from "../helpers/disk.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const where = diskOf("/var/tmp");
const skip = (await toolSkip()) || ("reason" in where && where.reason);
const N = 200;

test("biolatency -D -d DISK: the disk's histogram counts our O_DIRECT writes, BCC's layout", { skip }, async () => {
  const { disk } = where as { disk: string };
  const dir = mkdtempSync("/var/tmp/tsbcc-biolatency-");
  try {
    const t = startTool(tool, ["-D", "-d", disk]);
    assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
    directWrites(join(dir, "data"), N);
    assert.equal(await t.stop(), 0);
    const out = t.out();
    assert.match(out, new RegExp(`^Tracing block device I/O\\.\\.\\. Hit Ctrl-C to end\\.\\n\\n\\ndisk = ${disk}\\n     usecs               : count     distribution\\n`));
    let total = 0;
    for (const m of out.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|([* ]{40})\|$/gm)) total += Number(m[3]);
    assert.ok(total >= N, `${total} completions for ${N} writes:\n${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("biolatency as a library: interval reports with write flags and sums (-F -e)", { skip }, async () => {
  const dir = mkdtempSync("/var/tmp/tsbcc-biolatency-");
  try {
    const stream = await biolatency({ perFlags: true, interval: 30 });
    directWrites(join(dir, "data"), N);
    setTimeout(() => stream.close(), 50);
    const reports = [];
    for await (const r of stream) reports.push(r);
    assert.equal(reports.length, 1);
    const m = reports[0].metrics[0] as HistogramMetric;
    assert.equal(m.name, "block_io_latency");
    assert.equal(m.unit, "usecs");
    assert.equal(m.scale, "log2");
    const writes = m.series.filter((s) => /Write/.test(s.labels.flags ?? ""));
    const count = writes.reduce((n, s) => n + s.count, 0);
    assert.ok(count >= N, JSON.stringify(m.series.map((s) => [s.labels, s.count])));
    for (const s of writes) {
      assert.ok((s.sum ?? 0) >= 0);
      assert.equal(s.buckets[0].low, 0);
      for (const b of s.buckets) assert.equal(b.high, b.low === 0 ? 1 : b.low * 2 - 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rwbsFlags names the block layer's flags as BCC does; wrong input is a usage error", { skip }, async () => {
  assert.equal(rwbsFlags("WS"), "Sync-Write");
  assert.equal(rwbsFlags("R"), "Read");
  assert.equal(rwbsFlags("FWFS"), "PreFlush-ForcedUnitAccess-Sync-Write");
  await assert.rejects(biolatency({ disk: "no-such-disk" }), /no disk named 'no-such-disk'/);
  await assert.rejects(biolatency({ perDisk: true, perFlags: true }), /cannot be combined/);
  const t = startTool(tool, ["-D", "-F"]);
  assert.equal(await t.done, 2);
  assert.match(t.err(), /not allowed with argument -D\/--disks/);
});
