// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes and fentry: the VFS tools' function-probe
// variants (looked up in the running kernel) observe what a child really does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vfsstat } from "../../../src/tools/vfsstat.js";
import { filelife, type FileLifeEvent } from "../../../src/tools/filelife.js";
import { filetop, filetopRows } from "../../../src/tools/filetop.js";
import { ext4slower } from "../../../src/tools/ext4slower.js";
import { cachestat, cacheStats, type CacheStats } from "../../../src/tools/cachestat.js";
import { tcptop, tcptopRows } from "../../../src/tools/tcptop.js";
import type { FsSlowEvent } from "../../../src/tools/lib/fs-slower.js";
import type { CounterMetric, IntervalReport } from "../../../src/tools/lib/metrics.js";
import { haveFentry, haveKprobes } from "../../../src/kernel/features.js";
import { pausedChild } from "../../helpers/child.js";
import { mountExt4 } from "../../helpers/loop-fs.js";
import { loopbackTransfer } from "../../helpers/tcp-transfer.js";

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

for (const kind of ["fentry", "kprobe"] as const) {
  const feature = kind === "fentry" ? haveFentry() : haveKprobes();
  test(`filelife --source ${kind}: security_inode_create + vfs_unlink (dentry found in BTF) report our file and its age`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async () => {
    const dir = mkdtempSync("/tmp/tsbcc-filelife-");
    try {
      const stream = await filelife({ pid: process.pid, source: kind });
      assert.equal(stream.source.kind, kind);
      const file = join(dir, "guest-short");
      writeFileSync(file, "x");
      await new Promise((r) => setTimeout(r, 500));
      unlinkSync(file);
      setTimeout(() => stream.close(), 2000);
      let found: FileLifeEvent | undefined;
      for await (const ev of stream) if (ev.file === "guest-short") found ??= ev;
      assert.ok(found, "the file's life was reported");
      assert.equal(found.pid, process.pid);
      assert.ok(found.ageSeconds >= 0.45 && found.ageSeconds < 10, `age ${found.ageSeconds}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`filetop --source ${kind}: vfs_read/vfs_write name the child's file with its N writes`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async () => {
    const dir = mkdtempSync("/tmp/tsbcc-filetop-");
    try {
      const child = pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${join(dir, "guest-top.dat")} bs=4096 count=${N} status=none`]);
      const stream = await filetop({ pid: child.pid, source: kind });
      assert.equal(stream.source.kind, kind);
      assert.equal(await child.go(), 0);
      setTimeout(() => stream.close(), 200);
      const reports: IntervalReport[] = [];
      for await (const r of stream) reports.push(r);
      const row = filetopRows(reports[0]).find((r) => r.file === "guest-top.dat");
      assert.ok(row, JSON.stringify(filetopRows(reports[0])));
      assert.equal(row.writes, N);
      assert.equal(row.writeBytes, N * 4096);
      assert.equal(row.comm, "dd");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const kind of ["fentry", "kprobe"] as const) {
  const feature = kind === "fentry" ? haveFentry() : haveKprobes();
  test(`ext4slower --source ${kind}: ext4's own file operations time the child's open, writes and fsync`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async (t) => {
    const m = mountExt4();
    if ("reason" in m) return t.skip(m.reason);
    try {
      const child = pausedChild("sh", ["-c", `read x; exec dd if=/dev/zero of=${join(m.dir, "guest.dat")} bs=4096 count=4 conv=fsync status=none`]);
      const stream = await ext4slower({ pid: child.pid, minMs: 0, source: kind });
      assert.equal(stream.source.kind, kind);
      assert.ok(stream.source.targets.some((f) => f.startsWith("ext4_sync_file")), stream.source.targets.join());
      assert.equal(await child.go(), 0);
      setTimeout(() => stream.close(), 500);
      const evs: FsSlowEvent[] = [];
      for await (const ev of stream) if (ev.file === "guest.dat") evs.push(ev);
      assert.equal(evs.filter((e) => e.type === "O").length, 1, JSON.stringify(evs));
      assert.deepEqual(evs.filter((e) => e.type === "W").map((e) => [e.bytes, e.offset]), [[4096, 0], [4096, 4096], [4096, 8192], [4096, 12288]]);
      assert.equal(evs.filter((e) => e.type === "S").length, 1, JSON.stringify(evs));
      assert.ok(evs.every((e) => e.pid === child.pid && e.comm === "dd"));
    } finally {
      m.cleanup();
    }
  });
}

for (const kind of ["fentry", "kprobe"] as const) {
  const feature = kind === "fentry" ? haveFentry() : haveKprobes();
  test(`cachestat --source ${kind}: a cold read of 1 MiB is >= 256 misses, the warm re-read >= 256 hits`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async (t) => {
    const m = mountExt4();
    if ("reason" in m) return t.skip(m.reason);
    try {
      const file = join(m.dir, "cache.dat");
      // Written around the page cache (O_DIRECT), so the first read has to bring every page in.
      execFileSync("dd", ["if=/dev/zero", `of=${file}`, "bs=64k", "count=16", "oflag=direct", "status=none"]);
      const phase = async (): Promise<CacheStats> => {
        const stream = await cachestat({ source: kind });
        assert.equal(stream.source.kind, kind);
        execFileSync("cat", [file], { stdio: ["ignore", "ignore", "inherit"] });
        stream.close();
        const reports: IntervalReport[] = [];
        for await (const r of stream) reports.push(r);
        return cacheStats(reports[0]);
      };
      const cold = await phase();
      assert.ok(cold.misses >= 256, `cold read: ${JSON.stringify(cold)}`);
      const warm = await phase();
      assert.ok(warm.hits >= 256, `warm read: ${JSON.stringify(warm)}`);
      assert.ok(warm.ratio > 0.5, `warm read: ${JSON.stringify(warm)}`);
    } finally {
      m.cleanup();
    }
  });
}

for (const kind of ["fentry", "kprobe"] as const) {
  const feature = kind === "fentry" ? haveFentry() : haveKprobes();
  test(`tcptop --source ${kind}: tcp_sendmsg/tcp_cleanup_rbuf count a 64 KiB loopback transfer on both connections`, { skip: inVm || (!feature.supported && `no ${kind}: ${feature.reason}`) }, async () => {
    const BYTES = 64 * 1024;
    const stream = await tcptop({ pid: process.pid, source: kind });
    assert.equal(stream.source.kind, kind);
    const { serverPort } = await loopbackTransfer(BYTES);
    stream.close();
    const reports: IntervalReport[] = [];
    for await (const r of stream) reports.push(r);
    const rows = tcptopRows(reports[0]);
    const tx = rows.find((r) => r.rport === serverPort);
    const rx = rows.find((r) => r.lport === serverPort);
    assert.ok(tx && rx, JSON.stringify(rows));
    assert.equal(tx.txBytes, BYTES);
    assert.equal(rx.rxBytes, BYTES);
  });
}
