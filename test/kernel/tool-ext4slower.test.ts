// Tier 2: ext4slower on the host kernel (syscall tracepoints, files filtered to ext4 by their super block) sees a
// child's open, 4 KiB writes at their offsets and fsync on an ext4 loop mount the test creates, with threshold 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tool } from "../../src/tools/ext4slower.js";
import { ext4slower, UsageError, type FsSlowEvent } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { mountExt4 } from "../helpers/loop-fs.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 4;
const dd = (file: string): ReturnType<typeof pausedChild> =>
  pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${file} bs=4096 count=${N} conv=fsync status=none`]);

test("ext4slower 0 as a library: the child's open, N writes (4096 bytes at 0, 4096, ...) and its fsync on ext4", { skip }, async (t) => {
  const m = mountExt4();
  if ("reason" in m) return t.skip(m.reason);
  try {
    const child = dd(join(m.dir, "slow.dat"));
    const stream = await ext4slower({ pid: child.pid, minMs: 0 });
    assert.equal(stream.source.kind, "tracepoint");
    assert.equal(await child.go(), 0);
    setTimeout(() => stream.close(), 300);
    const evs: FsSlowEvent[] = [];
    for await (const ev of stream) evs.push(ev);
    evs.sort((a, b) => a.endUs - b.endUs); // per-CPU buffers: a task that moved CPUs can arrive out of order
    const mine = evs.filter((e) => e.file === "slow.dat");
    assert.ok(mine.every((e) => e.pid === child.pid && e.comm === "dd"), JSON.stringify(mine));
    assert.equal(mine.filter((e) => e.type === "O").length, 1, JSON.stringify(mine));
    const writes = mine.filter((e) => e.type === "W");
    assert.deepEqual(writes.map((e) => [e.bytes, e.offset]), Array.from({ length: N }, (_, i) => [4096, i * 4096]));
    const syncs = mine.filter((e) => e.type === "S");
    assert.equal(syncs.length, 1);
    assert.ok(syncs[0].latencyUs >= 0);
    assert.ok(!evs.some((e) => e.file === "zero"), "/dev/zero is not on ext4");
  } finally {
    m.cleanup();
  }
});

test("ext4slower CLI: BCC's header and rows, -j CSV, a threshold hides fast writes; wrong input", { skip }, async (t) => {
  const m = mountExt4();
  if ("reason" in m) return t.skip(m.reason);
  try {
    const child = dd(join(m.dir, "cli.dat"));
    const r = startTool(tool, ["-p", String(child.pid), "0"]);
    assert.ok(await r.waitFor(/FILENAME\n/), r.err());
    assert.equal(r.out(), "Tracing ext4 operations\nTIME     COMM           PID    T BYTES   OFF_KB   LAT(ms) FILENAME\n");
    assert.equal(await child.go(), 0);
    await r.waitFor(/ S .* cli\.dat\n/);
    assert.equal(await r.stop(), 0);
    const w = r.out().split("\n").filter((l) => / W .* cli\.dat$/.test(l));
    assert.equal(w.length, N, r.out());
    assert.match(w[1], new RegExp(`^\\d\\d:\\d\\d:\\d\\d dd +${child.pid} +W 4096 +4 +\\d+\\.\\d\\d cli\\.dat$`));
    const c2 = dd(join(m.dir, "csv.dat"));
    const j = startTool(tool, ["-j", "-p", String(c2.pid), "0"]);
    assert.ok(await j.waitFor(/FILE\n/), j.err());
    assert.equal(await c2.go(), 0);
    await j.waitFor(/,S,.*csv\.dat\n/);
    assert.equal(await j.stop(), 0);
    assert.match(j.out(), /^ENDTIME_us,TASK,PID,TYPE,BYTES,OFFSET_b,LATENCY_us,FILE\n/);
    assert.match(j.out(), new RegExp(`\\n\\d+,dd,${c2.pid},W,4096,8192,\\d+,csv\\.dat\\n`));
    const c3 = dd(join(m.dir, "fast.dat"));
    const slow = await ext4slower({ pid: c3.pid, minMs: 10000 });
    assert.equal(await c3.go(), 0);
    setTimeout(() => slow.close(), 200);
    const none: FsSlowEvent[] = [];
    for await (const ev of slow) none.push(ev);
    assert.deepEqual(none, [], "nothing takes 10 s");
    const bad = startTool(tool, ["x"]);
    assert.equal(await bad.done, 2);
    await assert.rejects(ext4slower({ minMs: -1 }), UsageError);
  } finally {
    m.cleanup();
  }
});
