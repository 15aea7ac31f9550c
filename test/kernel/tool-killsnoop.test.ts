// Tier 2: killsnoop shows the signal this process sends to a child, and a failed kill with its errno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tool } from "../../src/tools/killsnoop.js";
import { killsnoop } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("killsnoop -p OURPID shows the signal we sent, its target and result", { skip }, async () => {
  const child = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
  const t = startTool(tool, ["-p", String(process.pid)]);
  assert.ok(await t.waitFor(/RESULT\n/), t.err());
  assert.match(t.out(), /^TIME      PID     COMM             SIG  TPID    RESULT\n$/);
  process.kill(child.pid!, "SIGUSR2");
  const m = await t.waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d +${process.pid} +\\S+ +12 +${child.pid} +0$`, "m"));
  assert.equal(await t.stop(), 0);
  assert.ok(m, t.out());
});

test("killsnoop as a library: -x keeps the failed kill (ESRCH) and the signal filter applies", { skip }, async () => {
  const stream = await killsnoop({ pid: process.pid, failed: true, signalFilter: 10, duration: 30 });
  // A pid far above pid_max cannot exist: kill() fails with ESRCH.
  try { process.kill(2 ** 22 + 7, "SIGUSR1"); } catch { /* expected */ }
  try { process.kill(2 ** 22 + 8, "SIGUSR2"); } catch { /* filtered out: another signal */ }
  let found;
  for await (const ev of stream) {
    found = ev;
    break;
  }
  assert.ok(found);
  assert.equal(found.signal, 10);
  assert.equal(found.targetPid, 2 ** 22 + 7);
  assert.equal(found.result, -3, "ESRCH");
  assert.equal(found.pid, process.pid);
});
