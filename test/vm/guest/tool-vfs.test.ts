// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes and fentry: the VFS tools' function-probe
// variants (looked up in the running kernel) observe what a child really does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { vfsstat } from "../../../src/tools/vfsstat.js";
import type { CounterMetric, IntervalReport } from "../../../src/tools/lib/metrics.js";
import { haveFentry, haveKprobes } from "../../../src/kernel/features.js";
import { pausedChild } from "../../helpers/child.js";

const inVm = process.env.TSBCC_VM === "1" ? false : "not inside the VM guest";
const N = 200;

function ddChild(file: string): ReturnType<typeof pausedChild> {
  return pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${file} bs=1 count=${N} conv=fsync status=none`]);
}

for (const kind of ["fentry", "kprobe"] as const) {
  const feature = kind === "fentry" ? haveFentry() : haveKprobes();
  test(`vfsstat --source ${kind}: vfs_write counts the child's N writes, vfs_fsync_range its fsync`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async () => {
    const dir = mkdtempSync("/tmp/tsbcc-vfsstat-");
    try {
      const child = ddChild(join(dir, "out"));
      const stream = await vfsstat({ pid: child.pid, source: kind });
      assert.equal(stream.source.kind, kind);
      assert.ok(stream.source.targets.some((t) => t.startsWith("vfs_fsync_range")), stream.source.targets.join());
      assert.equal(await child.go(), 0);
      setTimeout(() => stream.close(), 200);
      const reports: IntervalReport[] = [];
      for await (const r of stream) reports.push(r);
      const c: Record<string, number> = {};
      for (const s of (reports[0].metrics[0] as CounterMetric).series) c[s.labels.op] = s.value;
      assert.equal(c.write, N, JSON.stringify(c));
      assert.ok(c.read >= N, JSON.stringify(c));
      assert.equal(c.fsync, 1, JSON.stringify(c));
      assert.ok(c.open >= 2, JSON.stringify(c));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
