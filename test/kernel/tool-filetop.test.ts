// Tier 2: filetop on the host kernel (syscall tracepoints + the task's fd table): a child's dd names the test's
// file with its N writes and N*4 KiB, and with -a also /dev/zero's N reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/filetop.js";
import { filetop, filetopRows, UsageError, type IntervalReport } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const N = 40;

function ddChild(file: string): ReturnType<typeof pausedChild> {
  return pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${file} bs=4096 count=${N} status=none`]);
}

test("filetop as a library: -a -p names the child's file with N writes of 4 KiB and /dev/zero with N reads", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-filetop-"));
  try {
    const child = ddChild(join(dir, "filetop-target.dat"));
    const stream = await filetop({ pid: child.pid, allFiles: true });
    assert.equal(stream.source.kind, "tracepoint");
    assert.equal(await child.go(), 0);
    setTimeout(() => stream.close(), 100);
    const reports: IntervalReport[] = [];
    for await (const r of stream) reports.push(r);
    const rows = filetopRows(reports[0]);
    const target = rows.find((r) => r.file === "filetop-target.dat");
    assert.ok(target, JSON.stringify(rows));
    assert.deepEqual({ tid: target.tid, comm: target.comm, type: target.type, writes: target.writes, writeBytes: target.writeBytes, reads: target.reads },
      { tid: child.pid, comm: "dd", type: "R", writes: N, writeBytes: N * 4096, reads: 0 });
    const zero = rows.find((r) => r.file === "zero");
    assert.ok(zero, JSON.stringify(rows));
    assert.equal(zero.type, "O");
    assert.equal(zero.reads, N);
    assert.equal(zero.readBytes, N * 4096);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("filetop CLI -C: BCC's header and the child's row (W_Kb); regular files only by default; wrong input", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-filetop-"));
  try {
    const child = ddChild(join(dir, "filetop-cli.dat"));
    const t = startTool(tool, ["-C", "-p", String(child.pid), "1", "2"]);
    assert.ok(await t.waitFor(/Hit Ctrl-C to end\n/), t.err());
    assert.equal(await child.go(), 0);
    assert.equal(await t.done, 0, t.err());
    const out = t.out();
    assert.match(out, /^Tracing\.\.\. Output every 1 secs\. Hit Ctrl-C to end\n\n\d\d:\d\d:\d\d loadavg: [\d. /]+\n\nTID +COMM +READS  WRITES R_Kb    W_Kb    T FILE\n/);
    const row = out.split("\n").find((l) => l.endsWith(" filetop-cli.dat"));
    assert.ok(row, out);
    assert.deepEqual(row.split(/\s+/), [String(child.pid), "dd", "0", String(N), "0", String(N * 4), "R", "filetop-cli.dat"]);
    assert.ok(!out.includes(" zero\n"), "non-regular files need -a");
    assert.match(out, /Detaching\.\.\.\n$/);
    const bad = startTool(tool, ["-s", "nosuch"]);
    assert.equal(await bad.done, 2);
    assert.match(bad.err(), /argument -s\/--sort: invalid choice/);
    await assert.rejects(filetop({ count: 0 }), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
