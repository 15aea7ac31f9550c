// Tier 2: trace prints a uprobe's argument values the test binary passed (tsbcc_work(i, i*10) for i = 1..5, with a
// filter on arg1), the return values (retval = i + 1), and a tracepoint's string field (the path a child opens);
// -M stops after that many events; malformed probes are usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/trace.js";
import { trace } from "../../src/tools/index.js";
import { haveGcc, openFiles } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");

test("trace -p PID uprobe with a filter: the arguments the binary passed, BCC's columns", { skip }, async () => {
  const child = pausedChild(caller(), ["5"]);
  const t = startTool(tool, ["-p", String(child.pid), `p:${caller()}:tsbcc_work (arg1 >= 3) "a=%d b=%ld", arg1, arg2`]);
  assert.ok(await t.waitFor(/^PID {5}TID {5}COMM {12}FUNC {13}-\n/), t.err());
  assert.equal(await child.go(), 0);
  await t.waitFor(/a=5 b=50\n/, 5000);
  assert.equal(await t.stop(), 0);
  const lines = t.out().trim().split("\n").slice(1);
  assert.deepEqual(lines.map((l) => l.replace(/ +/g, " ")), [3, 4, 5].map((i) => `${child.pid} ${child.pid} tsbcccall tsbcc_work a=${i} b=${i * 10}`));
});

test("trace as a library: retval, a tracepoint string, -M; wrong input", { skip }, async () => {
  const child = pausedChild(caller(), ["4"]);
  const stream = await trace({ pid: child.pid, probes: [`r:${caller()}:tsbcc_work "ret=%d", retval`], maxEvents: 4 });
  await child.go();
  const msgs = [];
  for await (const ev of stream) msgs.push(ev.message);
  assert.deepEqual(msgs, ["ret=2", "ret=3", "ret=4", "ret=5"]);

  const opener = pausedChild(openFiles(), ["/tmp/tsbcc-trace-probe-path"]);
  const tp = await trace({ pid: opener.pid, probes: ['t:syscalls:sys_enter_openat "%s", args->filename'], duration: 5 });
  await opener.go();
  let found;
  for await (const ev of tp) if (ev.message === "/tmp/tsbcc-trace-probe-path") { found = ev; tp.close(); }
  assert.equal(found?.function, "syscalls:sys_enter_openat");
  await assert.rejects(trace({ probes: [] }), /at least one probe/);
  await assert.rejects(trace({ probes: ['p:c:malloc "%d %d", arg1'] }), /2 conversions for 1 arguments/);
  const bad = startTool(tool, []);
  assert.equal(await bad.done, 2);
});
