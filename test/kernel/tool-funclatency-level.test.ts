// Tier 2: funclatency -l LEVEL on a recursive function of a test binary: tsbcc_rec(3) sleeps 3 ms and calls
// tsbcc_rec(2), which sleeps and calls tsbcc_rec(1), N times over. Level by level the calls take >= 9, 6 and 3 ms.
// -l 2 times the outer two levels (2N samples, none under 6 ms = the 4096 us row and up); -l 1 the outermost only
// (N samples, all >= 9 ms); without -l the recursion shares one start per thread and function (N samples, as
// BCC). Wrong levels are usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/funclatency.js";
import { funclatency, type HistogramMetric } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { buildTarget } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 6;
const DEPTH = 3;
const US = 3000;

const recursive = (): string => buildTarget("tsbccrec", `#include <unistd.h>
#include <stdlib.h>
static void wait_go(void) { char c; if (read(0, &c, 1) < 0) _exit(2); }
__attribute__((noinline)) long tsbcc_rec(long depth, long us) { usleep(us); return depth > 1 ? 1 + tsbcc_rec(depth - 1, us) : 1; }
int main(int argc, char **argv) { wait_go(); long n = 0; for (long i = 0; i < atol(argv[1]); i++) n += tsbcc_rec(atol(argv[2]), atol(argv[3])); return n == atol(argv[1]) * atol(argv[2]) ? 0 : 1; }
`);

test("funclatency -l 2 -u: the two outer levels of each recursion, 2N samples, none under 6 ms", { skip }, async () => {
  const child = pausedChild(recursive(), [String(N), String(DEPTH), String(US)]);
  const t = startTool(tool, ["-l", "2", "-u", "-p", String(child.pid), `${recursive()}:tsbcc_rec`]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  let count = 0;
  for (const m of out.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|/gm)) {
    if (Number(m[3]) > 0) assert.ok(Number(m[1]) >= 4096, `row ${m[1]} -> ${m[2]} has ${m[3]}:\n${out}`);
    count += Number(m[3]);
  }
  assert.equal(count, 2 * N, out);
  const avg = /\navg = (\d+) usecs, total: (\d+) usecs, count: (\d+)\n/.exec(out);
  assert.equal(Number(avg?.[3]), 2 * N, out);
  assert.ok(Number(avg![1]) >= (2 * US + 3 * US) / 2, avg![0]); // (6 + 9) / 2 ms at least
});

test("funclatency as a library: level 1 keeps the outermost call; no level: one sample per recursion; wrong levels", { skip }, async () => {
  for (const level of [1, undefined]) {
    const child = pausedChild(recursive(), [String(N), String(DEPTH), String(US)]);
    const stream = await funclatency({ pattern: `${recursive()}:tsbcc_rec`, pid: child.pid, unit: "usecs", level });
    assert.equal(await child.go(), 0);
    stream.close();
    let h: HistogramMetric | undefined;
    for await (const r of stream) h = r.metrics[0] as HistogramMetric;
    const s = h!.series[0]!;
    assert.equal(s.count, N, `level ${level}: ${JSON.stringify(s)}`);
    if (level === 1) assert.ok(s.buckets.every((b) => b.count === 0 || b.low >= 8192), JSON.stringify(s.buckets));
  }
  for (const bad of [0, 33, 1.5]) await assert.rejects(funclatency({ pattern: "c:getpid", level: bad }), /level must be an integer from 1 to 32/);
  for (const argv of [["-l", "0", "c:getpid"], ["-l", "x", "c:getpid"], ["-l", "99", "c:getpid"]]) {
    const t = startTool(tool, argv);
    assert.equal(await t.done, 2, `${argv.join(" ")}: ${t.err()}`);
  }
});
