// Tier 2: oomkill reports a real OOM kill: a child in a 32 MiB memory cgroup (v1 or v2, created for the test)
// touches 256 MiB and is killed; the line names it as both trigger and victim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { tool } from "../../src/tools/oomkill.js";
import { oomkill } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

/** A fresh memory cgroup with a 32 MiB limit and no swap, or why none can be made. */
function memoryCgroup(): { dir: string; procs: string } | { reason: string } {
  const name = `tsbcc-oomkill-${process.pid}`;
  const limit = String(32 << 20);
  if (existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    const dir = `/sys/fs/cgroup/memory/${name}`;
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.limit_in_bytes`, limit);
    return { dir, procs: `${dir}/cgroup.procs` };
  }
  if (existsSync("/sys/fs/cgroup/cgroup.subtree_control")) {
    const dir = `/sys/fs/cgroup/${name}`;
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.max`, limit);
    writeFileSync(`${dir}/memory.swap.max`, "0");
    return { dir, procs: `${dir}/cgroup.procs` };
  }
  return { reason: "no memory cgroup controller (v1 memory or v2 with memory)" };
}

const skip = await toolSkip();

test("oomkill shows the OOM kill of a child in a small memory cgroup", { skip }, async (t) => {
  const cg = memoryCgroup();
  if ("reason" in cg) return t.skip(cg.reason);
  try {
    const child = pausedChild("/bin/sh", ["-c", `read x; echo $$ > ${cg.procs}; exec /usr/bin/python3 -c "b = b'x' * (256 << 20)"`]);
    const run = startTool(tool, []);
    assert.ok(await run.waitFor(/Ctrl-C to stop\.\n/), run.err());
    const lib = await oomkill({ duration: 20 });
    const code = await child.go();
    assert.equal(code, 128, "killed by a signal");
    const line = await run.waitFor(new RegExp(`OOM kill of PID ${child.pid} \\("python3"\\), \\d+ pages, loadavg: .+$`, "m"));
    assert.equal(await run.stop(), 0);
    assert.ok(line, run.out());
    assert.match(run.out(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d Triggered by PID ${child.pid} \\("python3"\\), OOM kill of PID ${child.pid} \\("python3"\\)`, "m"));
    let ev;
    for await (const e of lib) {
      if (e.victimPid === child.pid) {
        ev = e;
        break;
      }
    }
    assert.ok(ev);
    assert.equal(ev.victimComm, "python3");
    assert.ok(ev.anonRssKb > 16 << 10, `anon rss ${ev.anonRssKb} kB near the 32 MiB limit`);
  } finally {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(cg.dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
});
