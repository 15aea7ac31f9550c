// Tier 2: drsnoop sees a child reclaim memory itself: it reads a 160 MiB file into the page cache inside a 32 MiB
// memory cgroup, so its own allocations must reclaim (cgroup direct reclaim), with pages reclaimed. The file is
// written beforehand with O_DIRECT outside the cgroup: the child's cache pages are clean and always reclaimable (a
// child writing dirty pages could outrun writeback on a loaded machine and be OOM-killed inside the cgroup).
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tool } from "../../src/tools/drsnoop.js";
import { drsnoop } from "../../src/tools/index.js";
import { memoryCgroup } from "../helpers/cgroup.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("drsnoop -p PID: the child's reclaims with latency and pages; library events say memcg", { skip }, async (t) => {
  const cg = memoryCgroup(`tsbcc-drsnoop-${process.pid}`, 32 << 20);
  if ("reason" in cg) return t.skip(cg.reason);
  const dir = mkdtempSync("/var/tmp/tsbcc-drsnoop-");
  const cleanups: (() => unknown)[] = []; // on a failed assertion: stop the tool and the stream, or the file hangs
  try {
    const data = join(dir, "data");
    execFileSync("dd", ["if=/dev/zero", `of=${data}`, "bs=1M", "count=160", "oflag=direct", "status=none"]);
    const child = pausedChild("/bin/sh", ["-c", `read x; echo $$ > ${cg.procs}; exec dd if=${data} of=/dev/null bs=1M status=none`]);
    const run = startTool(tool, ["-p", String(child.pid)]);
    cleanups.push(() => run.stop().then(() => undefined), () => child.child.kill("SIGKILL"));
    assert.ok(await run.waitFor(/PAGES\n/), run.err());
    assert.equal(run.out(), "COMM           PID     LAT(ms) PAGES\n");
    const lib = await drsnoop({ pid: child.pid, duration: 20 });
    cleanups.push(() => lib.close());
    assert.equal(await child.go(), 0);
    const line = await run.waitFor(new RegExp(`^dd +${child.pid} +[\\d.]+ +\\d+$`, "m"));
    assert.equal(await run.stop(), 0);
    assert.ok(line, run.out());
    let ev;
    for await (const e of lib) {
      ev = e;
      break;
    }
    assert.ok(ev);
    assert.equal(ev.pid, child.pid);
    assert.equal(ev.comm, "dd");
    assert.equal(ev.kind, "memcg");
    assert.ok(ev.latencyMs >= 0);
    const total = run.out().split("\n").slice(1).filter(Boolean).reduce((n, l) => n + Number(l.trim().split(/\s+/)[3]), 0);
    assert.ok(total > 0, `pages reclaimed:\n${run.out()}`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
    await cg.remove();
  }
});
