// Tier 2: biotop shows a child's O_DIRECT writes: its pid and comm, direction W, the disk under /var/tmp, at least
// N requests and N*16 Kbytes, in the library's rows and in BCC's table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tool } from "../../src/tools/biotop.js";
import { biotop, biotopRows, UsageError, type IntervalReport } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { diskOf } from "../helpers/disk.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const where = diskOf("/var/tmp");
const skip = (await toolSkip()) || ("reason" in where && where.reason);
const N = 20;
const ddWrites = (file: string): string[] => ["-c", `read x; exec dd if=/dev/zero of=${file} bs=16k count=${N} oflag=direct,dsync status=none`];

test("biotop as a library: -p gives the child's write row on its disk with >= N I/Os and N*16 KiB", { skip }, async () => {
  const { disk } = where as { disk: string };
  const dir = mkdtempSync("/var/tmp/tsbcc-biotop-");
  try {
    const child = pausedChild("/bin/sh", ddWrites(join(dir, "data")));
    const stream = await biotop({ pid: child.pid });
    assert.equal(stream.source.kind, "tracepoint");
    assert.equal(await child.go(), 0);
    await new Promise((r) => setTimeout(r, 300));
    stream.close();
    const reports: IntervalReport[] = [];
    for await (const r of stream) reports.push(r);
    const rows = biotopRows(reports[0]);
    const w = rows.find((r) => r.dir === "W" && r.disk === disk);
    assert.ok(w, JSON.stringify(rows));
    assert.equal(w.pid, child.pid);
    assert.equal(w.comm, "dd");
    assert.ok(w.io >= N, `${w.io} I/Os`);
    assert.ok(w.bytes >= N * 16384, `${w.bytes} bytes`);
    assert.ok(w.usecs > 0);
    assert.ok(rows.every((r) => r.pid === child.pid), "only the child (-p)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("biotop CLI -C: BCC's header and the child's row; wrong input", { skip }, async () => {
  const { disk } = where as { disk: string };
  const dir = mkdtempSync("/var/tmp/tsbcc-biotop-");
  try {
    const child = pausedChild("/bin/sh", ddWrites(join(dir, "data")));
    const t = startTool(tool, ["-C", "-r", "50"]);
    assert.ok(await t.waitFor(/Hit Ctrl-C to end\n/), t.err());
    assert.equal(await child.go(), 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const out = t.out();
    assert.match(out, /\n\d\d:\d\d:\d\d loadavg: [\d. /]+\n\nPID     COMM             D MAJ MIN DISK       I\/O  Kbytes  AVGms\n/);
    const rows = out.split("\n").filter((l) => l.startsWith(`${child.pid} `));
    const row = rows.find((l) => l.split(/\s+/)[2] === "W");
    assert.ok(row, out);
    const [pid, comm, d, , , dk, io, kb, avg] = row.split(/\s+/);
    assert.deepEqual([pid, comm, d, dk], [String(child.pid), "dd", "W", disk]);
    assert.ok(Number(io) >= N && Number(kb) >= N * 16 && Number(avg) >= 0, row);
    assert.match(out, /Detaching\.\.\.\n$/);
    const bad = startTool(tool, ["-r", "0"]);
    assert.equal(await bad.done, 2);
    await assert.rejects(biotop({ pid: 1.5 }), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
