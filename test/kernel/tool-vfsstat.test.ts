// Tier 2: vfsstat on the host kernel (no kprobes, fentry refused) counts from the syscall tracepoints: a child that
// copies N one-byte blocks with dd makes exactly N writes and at least N reads, one fsync and its opens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/vfsstat.js";
import { vfsstat, UsageError, type CounterMetric, type IntervalReport } from "../../src/tools/index.js";
import { haveKprobes } from "../../src/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 300;

/** A paused shell that, once released, becomes `dd` copying N one-byte blocks into `file` and fsyncing it. */
function ddChild(file: string): ReturnType<typeof pausedChild> {
  return pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${file} bs=1 count=${N} conv=fsync status=none`]);
}

function counts(reports: IntervalReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reports) for (const s of (r.metrics[0] as CounterMetric).series) out[s.labels.op] = (out[s.labels.op] ?? 0) + s.value;
  return out;
}

test("vfsstat as a library: -p counts the child's N writes exactly, its reads, fsync and opens (tracepoint fallback)", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-vfsstat-"));
  try {
    const child = ddChild(join(dir, "out"));
    const stream = await vfsstat({ pid: child.pid });
    assert.equal(stream.source.kind, "tracepoint", "the host has no kprobes and refuses fentry");
    assert.ok(stream.source.targets.includes("syscalls:sys_enter_write"));
    assert.equal(await child.go(), 0);
    setTimeout(() => stream.close(), 100);
    const reports: IntervalReport[] = [];
    for await (const r of stream) reports.push(r);
    const c = counts(reports);
    assert.equal(c.write, N, JSON.stringify(c));
    assert.ok(c.read >= N, `reads ${c.read}`);
    assert.equal(c.fsync, 1);
    assert.ok(c.open >= 2, `opens ${c.open}`);
    assert.equal(c.create, 0);
    assert.equal(reports[0].tool, "vfsstat");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("vfsstat CLI: BCC's header and per-second rows; -v names the source; --json reports; wrong input", { skip }, async () => {
  const t = startTool(tool, ["-v", "1", "2"]);
  assert.equal(await t.done, 0, t.err());
  const lines = t.out().trimEnd().split("\n");
  assert.equal(lines[0], "TIME         READ/s  WRITE/s  FSYNC/s   OPEN/s CREATE/s");
  assert.equal(lines.length, 3, t.out());
  for (const l of lines.slice(1)) assert.match(l, /^\d\d:\d\d:\d\d: ( +\d+){5}$/);
  assert.match(t.err(), /^vfsstat: event source: tracepoint syscalls:sys_enter_read, /);
  const j = startTool(tool, ["--json", "0.2", "1"]);
  assert.equal(await j.done, 0, j.err());
  const r = JSON.parse(j.out().trim());
  assert.deepEqual(r.metrics[0].series.map((s: { labels: { op: string } }) => s.labels.op), ["read", "write", "fsync", "open", "create"]);
  if (!haveKprobes().supported) {
    const forced = startTool(tool, ["--source", "kprobe", "1", "1"]);
    assert.equal(await forced.done, 1);
    assert.match(forced.err(), /vfsstat: no usable event source.*\n  - kprobe: /s);
  }
  await assert.rejects(vfsstat({ interval: 0 }), (e: unknown) => e instanceof UsageError && /interval must be positive/.test(e.message));
  await assert.rejects(vfsstat({ pid: -1 }), UsageError);
});
