// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes: capable attaches to cap_capable (looked up
// in the running kernel) and reports a real denied check: nobody may not chown a file to root (CAP_CHOWN). With
// -K -U each line is followed by the check's kernel stack (cap_capable first, up through the chown syscall) and the
// user stack of the process that made it (libc's chown under perl, which stays alive so its stack symbolizes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { capable, tool } from "../../../src/tools/capable.js";
import { startTool } from "../../helpers/tool-run.js";
import { haveKprobes } from "../../../src/kernel/features.js";

test("capable: an unprivileged chown is a denied CAP_CHOWN check by that process", { skip: !haveKprobes().supported && `no kprobes: ${haveKprobes().reason}` }, async () => {
  const stream = await capable({ duration: 30 });
  assert.equal(stream.source.kind, "kprobe");
  assert.match(stream.source.targets[0], /^cap_capable/);
  const file = "/tmp/tsbcc-capable-target";
  writeFileSync(file, "x");
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "chown", "0", file], { encoding: "utf8" });
  assert.notEqual(r.status, 0, "chown to root as nobody must fail");
  let found;
  for await (const ev of stream) {
    if (ev.comm === "chown" && ev.capName === "CAP_CHOWN") {
      found = ev;
      break;
    }
  }
  assert.ok(found, "the CAP_CHOWN check was reported");
  assert.equal(found.uid, 65534);
  assert.notEqual(found.verdict, 0, "denied");
  assert.equal(found.audit, true);
});

test("capable -K -U: kernel and user stacks under the line, BCC's layout", { skip: !haveKprobes().supported && `no kprobes: ${haveKprobes().reason}` }, async () => {
  const file = "/tmp/tsbcc-capable-stacks";
  writeFileSync(file, "x");
  const t = startTool(tool, ["-K", "-U"]);
  assert.ok(await t.waitFor(/^TIME +UID +PID +COMM +CAP +NAME +AUDIT +VERDICT\n/, 60000), t.err());
  // Not spawnSync: the event must be read (and its user stack symbolized) while perl still sleeps.
  const perl = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "perl", "-e", `chown(0, 0, "${file}"); sleep 5;`], { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => perl.on("exit", resolve));
  const m = await t.waitFor(/^\S+ +65534 +(\d+) +perl +0 +CAP_CHOWN +1 +deny\n((?: {8}\S.*\n)+)/m, 30000);
  assert.equal(await t.stop(), 0);
  assert.equal(await exited, 0);
  assert.ok(m, t.out());
  const frames = m[2]!.split("\n").filter(Boolean).map((f) => f.slice(8));
  const kernel = frames.filter((f) => f.endsWith(" [kernel]"));
  assert.match(kernel[0]!, /^cap_capable\+0x[0-9a-f]+ \[kernel\]$/, frames.join("\n"));
  assert.ok(kernel.some((f) => /chown/.test(f)), `the chown syscall path is in the kernel stack:\n${frames.join("\n")}`);
  const user = frames.slice(kernel.length);
  assert.ok(user.length > 0 && frames.slice(0, kernel.length).every((f) => f.endsWith(" [kernel]")), "kernel frames, then user frames");
  assert.ok(user.some((f) => /^(l|f)?chown(at)?\+0x[0-9a-f]+ \[libc\.so\.6\]$/.test(f)), `libc's chown in the user stack:\n${user.join("\n")}`);
});
