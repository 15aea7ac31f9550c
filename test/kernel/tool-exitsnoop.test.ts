// Tier 2: exitsnoop reports a child's exit code and the signal that killed another, with the right pids; -p ends
// with that process, -T shows each thread's exit, -t heads the time column with the zone, --ebpf prints the program.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { tool } from "../../src/tools/exitsnoop.js";
import { exitsnoop, UsageError } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { requireTool } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

requireTool("python3", "python3");
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

test("exitsnoop -p PID -t --label=: one line for a shell that forked 3 times and exited 3, then the tool ends by itself", { skip }, async () => {
  const child = pausedChild("/bin/sh", ["-c", "read x; /bin/true; /bin/true; /bin/true; exit 3"]);
  const t = startTool(tool, ["-p", String(child.pid), "-t", "--label="]);
  assert.ok(await t.waitFor(/EXIT_CODE\n/), t.err());
  const zone = execFileSync("date", ["+%Z"], { encoding: "utf8" }).trim();
  assert.equal(t.out(), `${`TIME-${zone}`.padEnd(13)}LABEL PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE\n`);
  assert.equal(await child.go(), 3);
  assert.equal(await t.done, 0, "ended once the process had exited, without Ctrl-C");
  const lines = t.out().split("\n").slice(1, -1);
  assert.equal(lines.length, 1, t.out());
  const m = /^(\d\d:\d\d:\d\d\.\d{3}) +exit  sh {15}(\d+) +(\d+) +(\d+) +[\d.]+ +code 3$/.exec(lines[0]!);
  assert.ok(m, lines[0]);
  assert.deepEqual([Number(m[2]), Number(m[3]), Number(m[4])], [child.pid, process.pid, child.pid]);
});

test("exitsnoop -T -p PID: each of 3 threads' exits (code 0, own TIDs), then the main thread's code 3 ends the tool", { skip }, async () => {
  const script = "import sys, threading\nsys.stdin.read(1)\nts = [threading.Thread(target=lambda: None) for _ in range(3)]\n" +
    "for t in ts: t.start()\nfor t in ts: t.join()\nsys.exit(3)\n";
  const child = pausedChild("python3", ["-c", script]);
  const t = startTool(tool, ["-T", "-p", String(child.pid)]);
  assert.ok(await t.waitFor(/EXIT_CODE\n/), t.err());
  assert.equal(await child.go(), 3);
  assert.equal(await t.done, 0, t.err());
  // PCOMM PID PPID TID AGE(s) EXIT_CODE
  const rows = t.out().split("\n").slice(1, -1).map((l) => l.split(/ +/));
  assert.equal(rows.length, 4, t.out());
  const threads = rows.slice(0, 3);
  assert.ok(threads.every((r) => Number(r[1]) === child.pid && Number(r[3]) !== child.pid && r[5] === "0" && r.length === 6), t.out());
  assert.equal(new Set(threads.map((r) => r[3])).size, 3, "three different threads");
  const main = rows[3]!;
  assert.deepEqual([main[0], Number(main[1]), Number(main[2]), Number(main[3]), main.slice(5).join(" ")], ["python3", child.pid, process.pid, child.pid, "code 3"]);
});

test("exitsnoop --ebpf prints the program with its filters and loads nothing; wrong -T/--label/--ebpf input is a usage error", { skip }, async () => {
  const t = startTool(tool, ["--ebpf", "-x", "-p", "4242", "--per-thread"]);
  assert.equal(await t.done, 0);
  assert.match(t.out(), /^#define FILTER_PID 4242\n#define PER_THREAD 1\n#define ONLY_FAILED 1\n/m);
  assert.match(t.out(), /^TRACEPOINT_PROBE\(sched, sched_process_exit\) \{$/m);
  for (const [argv, msg] of [
    [["--threaded=1"], /argument -T\/--threaded: ignored explicit argument '1'/],
    [["--label"], /argument --label: expected one argument/],
    [["--ebpf=yes"], /argument --ebpf: ignored explicit argument 'yes'/],
  ] as const) {
    const bad = startTool(tool, [...argv]);
    assert.equal(await bad.done, 2);
    assert.match(bad.err(), msg);
    assert.match(bad.err(), /^tsbcc exitsnoop: error: /m);
  }
  const { exitsnoopProgram } = await import("../../src/tools/exitsnoop.js");
  assert.throws(() => exitsnoopProgram({ perThread: "yes" as unknown as boolean }), /perThread must be true or false/);
});
