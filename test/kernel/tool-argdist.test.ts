// Tier 2: argdist on a test binary's tsbcc_work(i, i*10), i = 1..20 (uprobe): -H of b fills the log2 rows exactly
// (10 -> 8..15, 20,30 -> 16..31, ...), -C with a filter counts b = 10, 20, 30 once each; a tracepoint field and a
// return value work through the library; malformed specifiers are usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/argdist.js";
import { argdist, type CounterMetric } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller, loadedSince, progCount } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 20;

test("argdist -H and -C on one function: exact log2 rows of b and the filtered counts", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const fn = `p:${caller()}:tsbcc_work(long a, long b):long`;
  const before = progCount();
  const t = startTool(tool, ["-p", String(child.pid), "-i", "30", "-H", `${fn}:b`, "-C", `${fn}:b:a <= 3`]);
  await loadedSince(before); // argdist prints nothing before its first interval
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  const rows = Object.fromEntries([...out.matchAll(/^ +(\d+) -> \d+ +: (\d+) +\|/gm)].map((m) => [m[1], Number(m[2])]));
  assert.deepEqual(rows, { 0: 0, 2: 0, 4: 0, 8: 1, 16: 2, 32: 3, 64: 6, 128: 8 }, out);
  assert.match(out, /\tCOUNT {6}EVENT\n\t1 {10}b = (10|20|30)\n\t1 {10}b = (10|20|30)\n\t1 {10}b = (10|20|30)\n$/);
  assert.match(out, /^\[\d\d:\d\d:\d\d\]\n/);
});

test("argdist as a library: $retval counts, a tracepoint field; wrong specifiers", { skip }, async () => {
  const child = pausedChild(caller(), ["5"]);
  const stream = await argdist({ pid: child.pid, interval: 30,
    counts: [`r:${caller()}:tsbcc_work():long:$retval`, "t:syscalls:sys_enter_getpid():int:1#getpid calls"] });
  await child.go();
  stream.close();
  const reports = [];
  for await (const r of stream) reports.push(r);
  const [ret, tp] = reports[0]!.metrics as CounterMetric[];
  assert.deepEqual(ret!.series.map((s) => Number(s.labels.value)).sort((a, b) => a - b), [2, 3, 4, 5, 6]);
  assert.equal(tp!.help, "getpid calls");
  assert.equal(tp!.series.find((s) => s.labels.value === "1")?.value, 5);
  await assert.rejects(argdist({}), /at least one probe/);
  await assert.rejects(argdist({ counts: ["x:y"] }), /invalid specifier/);
  await assert.rejects(argdist({ histograms: ["p:c:write(int fd, char *buf):char*:buf"] }), /numeric type/);
  await assert.rejects(argdist({ counts: ["r:c:write(int fd):int:fd"] }), /\$retval/);
  const bad = startTool(tool, ["-H", "nonsense"]);
  assert.equal(await bad.done, 2);
});
