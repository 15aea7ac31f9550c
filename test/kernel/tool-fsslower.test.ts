// Tier 2: xfsslower and btrfsslower (the fs-slower shape ext4slower uses) on this kernel's syscall tracepoint
// fallback: a child's open, 4 KiB writes at their offsets and fsync on a loop mount of that filesystem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { btrfsslower, xfsslower, UsageError, type FsSlowEvent } from "../../src/tools/index.js";
import { tool as xfsTool } from "../../src/tools/xfsslower.js";
import { pausedChild } from "../helpers/child.js";
import { mountLoopFs } from "../helpers/loop-fs.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 3;

for (const [fs, fn] of [["xfs", xfsslower], ["btrfs", btrfsslower]] as const) {
  test(`${fs}slower 0: the child's open, ${N} writes and fsync on a ${fs} loop mount, nothing from other filesystems`, { skip }, async (t) => {
    const m = mountLoopFs(fs);
    if ("reason" in m) return t.skip(m.reason);
    try {
      const child = pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${join(m.dir, "f.dat")} bs=4096 count=${N} conv=fsync status=none`]);
      const stream = await fn({ pid: child.pid, minMs: 0 });
      assert.equal(await child.go(), 0);
      setTimeout(() => stream.close(), 300);
      const evs: FsSlowEvent[] = [];
      for await (const ev of stream) evs.push(ev);
      // Each CPU has its own buffer: events of a task that moved between CPUs can arrive out of order.
      evs.sort((a, b) => a.endUs - b.endUs);
      assert.ok(evs.every((e) => e.file === "f.dat" && e.pid === child.pid), JSON.stringify(evs));
      assert.deepEqual(evs.map((e) => e.type).join(""), `O${"W".repeat(N)}S`);
      assert.deepEqual(evs.filter((e) => e.type === "W").map((e) => e.offset), [0, 4096, 8192]);
    } finally {
      m.cleanup();
    }
  });
}

test("xfsslower --help names xfs and BCC's options; wrong input is a usage error", { skip }, async () => {
  await assert.rejects(xfsslower({ pid: -1 }), UsageError);
  await assert.rejects(btrfsslower({ minMs: Number.NaN }), UsageError);
  const t = startTool(xfsTool, ["--help"]);
  assert.equal(await t.done, 0);
  assert.match(t.out(), /^usage: tsbcc xfsslower \[-h\] \[-j\] \[-p PID\]/);
  assert.match(t.out(), /Trace common xfs file operations slower than a threshold/);
});
