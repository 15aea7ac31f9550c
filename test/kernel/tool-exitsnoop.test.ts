// Tier 2: exitsnoop reports a child's exit code and the signal that killed another, with the right pids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tool } from "../../src/tools/exitsnoop.js";
import { exitsnoop, UsageError } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("exitsnoop -p PID shows the child's exit code, pid, ppid and age", { skip }, async () => {
  const child = pausedChild("/bin/sh", ["-c", "read x; exit 7"]);
  const t = startTool(tool, ["-p", String(child.pid), "--label", "mine"]);
  assert.ok(await t.waitFor(/EXIT_CODE\n/), t.err());
  assert.equal(t.out(), "LABEL PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE\n");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await child.go(), 7);
  const m = await t.waitFor(/^mine +sh +(\d+) +(\d+) +(\d+) +([\d.]+) +code 7$/m);
  assert.equal(await t.stop(), 0);
  assert.ok(m, t.out());
  assert.equal(Number(m[1]), child.pid);
  assert.equal(Number(m[2]), process.pid);
  assert.equal(Number(m[3]), child.pid);
  assert.ok(Number(m[4]) >= 0.2, `age ${m[4]} covers the 300 ms the child waited`);
});

test("exitsnoop as a library: a child killed by SIGTERM ends with signal 15", { skip }, async () => {
  const stream = await exitsnoop({ failed: true, duration: 10 });
  const child = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGTERM");
  let found;
  for await (const ev of stream) {
    if (ev.pid === child.pid) {
      found = ev;
      break;
    }
  }
  assert.ok(found, "the exit was reported");
  assert.equal(found.signal, 15);
  assert.equal(found.exitCode, undefined);
  assert.equal(found.comm, "sleep");
  assert.equal(found.ppid, process.pid);
  const { exitDescription } = await import("../../src/tools/exitsnoop.js");
  assert.equal(exitDescription(found), "signal 15 (TERM)");
});

test("exitsnoop rejects a bad pid", { skip }, async () => {
  await assert.rejects(exitsnoop({ pid: 1.5 }), UsageError);
  const t = startTool(tool, ["-p", "abc"]);
  assert.equal(await t.done, 2);
  assert.match(t.err(), /argument -p\/--pid: invalid int value: 'abc'/);
});
