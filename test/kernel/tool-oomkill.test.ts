// Tier 2: oomkill reports a real OOM kill: a child in a 32 MiB memory cgroup (v1 or v2, created for the test)
// touches 256 MiB and is killed; the line names it as both trigger and victim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/oomkill.js";
import { oomkill } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { memoryCgroup } from "../helpers/cgroup.js";

const skip = await toolSkip();

test("oomkill shows the OOM kill of a child in a small memory cgroup", { skip }, async (t) => {
  const cg = memoryCgroup(`tsbcc-oomkill-${process.pid}`, 32 << 20);
  if ("reason" in cg) return t.skip(cg.reason);
  const cleanups: (() => unknown)[] = []; // on a failed assertion: stop the tool and the stream, or the file hangs
  try {
    const child = pausedChild("/bin/sh", ["-c", `read x; echo $$ > ${cg.procs}; exec /usr/bin/python3 -c "b = b'x' * (256 << 20)"`]);
    cleanups.push(() => child.child.kill("SIGKILL"));
    const run = startTool(tool, []);
    cleanups.push(() => run.stop());
    assert.ok(await run.waitFor(/Ctrl-C to stop\.\n/), run.err());
    const lib = await oomkill({ duration: 20 });
    cleanups.push(() => lib.close());
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
    for (const c of cleanups.reverse()) await c();
    await cg.remove();
  }
});
