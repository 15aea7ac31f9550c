// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes: capable --cgroupmap reports the capability
// check of a process in a listed cgroup v2 directory and not the same check made outside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { capable } from "../../../src/tools/capable.js";
import { haveKprobes } from "../../../src/kernel/features.js";
import { cgroup2Root, cgroup2Dir, mountBpffs, waitingShell } from "../../helpers/task-filter.js";
import { requireTool } from "../../helpers/build.js";

requireTool("bpftool", "bpftool");

const skip = !haveKprobes().supported ? `no kprobes: ${haveKprobes().reason}` : !cgroup2Root() ? "no cgroup v2 mount" : false;

test("capable --cgroupmap: a denied CAP_CHOWN inside the listed cgroup is reported, the same outside is not", { skip }, async (t) => {
  if (process.env.TSBCC_VM !== "1") return t.skip("not inside the VM guest");
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-capable-${process.pid}`);
  try {
    const file = "/tmp/tsbcc-capable-filter";
    writeFileSync(file, "x");
    const chown = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "chown", "0", file];
    const stream = await capable({ cgroupMap: fs.pinIdSet("cgset", [cg.id]), duration: 60 });
    const outside = spawn(chown[0], chown.slice(1), { stdio: "ignore" });
    await new Promise((r) => outside.on("exit", r));
    const inside = waitingShell(chown);
    writeFileSync(`${cg.dir}/cgroup.procs`, String(inside.child.pid));
    await inside.go();
    const pids = new Set<number>();
    let found;
    for await (const ev of stream) {
      pids.add(ev.pid);
      if (ev.pid === inside.child.pid && ev.capName === "CAP_CHOWN") {
        found = ev;
        break;
      }
    }
    assert.ok(found, "the check inside the cgroup was reported");
    assert.equal(found.uid, 65534);
    assert.notEqual(found.verdict, 0);
    assert.equal(pids.has(outside.pid!), false, "the check outside the cgroup was not");
  } finally {
    await cg.remove();
    fs.done();
  }
});
