// Tier 2: memleak -p on a test binary that leaks N blocks of S bytes from tsbcc_leaky (and frees 50 others it
// allocates elsewhere): exactly N*S bytes in N allocations from a stack naming tsbcc_leaky, nothing else; -a lists
// the N addresses with size S. Kernel mode (kmem tracepoints) reports outstanding kernel allocations with stacks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/memleak.js";
import { memleak } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { leaker } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 7;
const SIZE = 1000;

test("memleak -a -o 0 -p PID 1: N*S bytes in N allocations from tsbcc_leaky, BCC's layout", { skip }, async () => {
  const child = pausedChild(leaker(), [String(N), String(SIZE)]);
  const t = startTool(tool, ["-a", "-o", "0", "-p", String(child.pid), "1"]);
  assert.ok(await t.waitFor(new RegExp(`^Attaching to pid ${child.pid}, Ctrl\\+C to quit\\.\\n`)), t.err());
  assert.equal(await child.go(), 0);
  const m = await t.waitFor(/\t(\d+) bytes in (\d+) allocations from stack\n\t\ttsbcc_leaky\+0x[0-9a-f]+ \[tsbccleak\]\n\t\tmain\+0x[0-9a-f]+ \[tsbccleak\]\n/);
  assert.equal(await t.stop(), 0);
  assert.ok(m, t.out());
  assert.deepEqual([Number(m[1]), Number(m[2])], [N * SIZE, N]);
  const last = t.out().slice(t.out().lastIndexOf("Top 10 stacks"));
  assert.equal(last.match(/bytes in/g)?.length, 1, `only the leak, not the freed blocks:\n${last}`);
  assert.equal(last.match(new RegExp(`\\taddr = [0-9a-f]+ size = ${SIZE}\\n`, "g"))?.length, N, last);
});

test("memleak as a library: the same leak; kernel mode stacks; wrong input", { skip }, async () => {
  const child = pausedChild(leaker(), ["3", "4096"]);
  const stream = await memleak({ pid: child.pid, olderMs: 0, interval: 0.3 });
  await child.go();
  let found;
  for await (const r of stream) {
    found = r.stacks.find((s) => s.frames.some((f) => f.startsWith("tsbcc_leaky+")));
    if (found) stream.close();
  }
  assert.deepEqual([found?.bytes, found?.allocations], [3 * 4096, 3]);
  const kernel = await memleak({ olderMs: 0, interval: 0.5, count: 1 });
  assert.equal(kernel.source.kind, "tracepoint");
  const reports = [];
  for await (const r of kernel) reports.push(r);
  assert.ok(reports[0]!.stacks.length > 0 && reports[0]!.stacks.every((s) => s.bytes > 0 && s.frames.length > 0), JSON.stringify(reports[0]).slice(0, 500));
  assert.ok(reports[0]!.stacks.some((s) => s.frames.some((f) => / \[kernel\]$/.test(f))));
  await assert.rejects(memleak({ top: 0 }), /top must be/);
  await assert.rejects(memleak({ minSize: 10, maxSize: 5 }), /min size/);
  const bad = startTool(tool, ["-z", "10", "-Z", "5"]);
  assert.equal(await bad.done, 2);
});
