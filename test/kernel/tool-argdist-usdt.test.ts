// Tier 2: argdist on USDT probes (u:). The test binary fires tsbcc:work(i, i*10), i = 1..N: -C of both arguments
// counts each (i, i*10) pair once; -H of arg2 fills the log2 rows exactly (10 -> 8..15, 20,30 -> 16..31, ...); a
// probe in a process's shared library (libtsbccprobe.so's tsbcclib:step(i, -7*i)) with -p and a filter on arg1
// counts the signed values. -I adds a header from disk (its macro in the expression) and a kernel header name; -v
// prints the program with the USDT reads. Wrong u: specifiers and headers are usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/argdist.js";
import { argdist, type CounterMetric, type IntervalReport } from "../../src/tools/index.js";
import { requireTool } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller, loadedSince, mapped, progCount, usdtLibCaller } from "../helpers/usertrace-targets.js";

requireTool("gcc", "gcc");
const skip = await toolSkip();
const N = 8;

async function firstReport(stream: AsyncIterable<IntervalReport> & { close(): void }): Promise<IntervalReport> {
  stream.close();
  for await (const r of stream) return r;
  throw new Error("no report");
}

test("argdist -C and -H on a USDT probe: each (arg1, arg2) pair once, exact log2 rows of arg2", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const probe = `u:${caller()}:work()`;
  const before = progCount();
  const t = startTool(tool, ["-p", String(child.pid), "-i", "30", "-C", `${probe}:s64,s64:arg1,arg2`, "-H", `${probe}:u64:arg2`]);
  await loadedSince(before); // argdist prints nothing before its first interval
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  const rows = Object.fromEntries([...out.matchAll(/^ +(\d+) -> \d+ +: (\d+) +\|/gm)].map((m) => [m[1], Number(m[2])]));
  assert.deepEqual(rows, { 0: 0, 2: 0, 4: 0, 8: 1, 16: 2, 32: 3, 64: 2 }, out);
  const pairs = [...out.matchAll(/^\t1 {10}arg1 = (\d+), arg2 = (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]).sort((a, b) => a[0]! - b[0]!);
  assert.deepEqual(pairs, Array.from({ length: N }, (_x, i) => [i + 1, (i + 1) * 10]), out);
});

test("argdist -p PID on a USDT probe of the process's shared library: signed values, filtered on arg1", { skip }, async () => {
  const { exe } = usdtLibCaller();
  const child = pausedChild(exe, ["5"]);
  await mapped(child.pid, "/libtsbccprobe.so");
  const stream = await argdist({ pid: child.pid, interval: 30, counts: ["u:tsbccprobe:step():int:arg2:arg1 > 2#negatives"] });
  assert.equal(await child.go(), 0);
  const [m] = (await firstReport(stream)).metrics as CounterMetric[];
  assert.equal(m!.help, "negatives");
  assert.deepEqual(m!.series.map((s) => [s.labels.value, s.value]).sort(), [["-21", 1], ["-28", 1], ["-35", 1]]);
});

test("argdist -I (a header from disk and a kernel header name) and -v on a USDT probe", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-argdist-inc-"));
  try {
    const header = join(dir, "offset.h");
    writeFileSync(header, "#define TSBCC_OFFSET 1000\n");
    const child = pausedChild(caller(), ["3"]);
    const before = progCount();
    const t = startTool(tool, ["-v", "-I", header, "-I", "linux/sched.h", "-p", String(child.pid), "-i", "30", "-C", `u:${caller()}:work():u64:arg1 + TSBCC_OFFSET`]);
    await loadedSince(before);
    assert.match(t.err(), new RegExp(`#include "${header}" /\\* sha256 [0-9a-f]{16} \\*/\\n#include <linux/sched.h>\\n`));
    assert.match(t.err(), /bpf_usdt_readarg\(1, ctx, &__usdt_arg1\);/);
    assert.equal(await child.go(), 0);
    assert.equal(await t.stop(), 0, t.err());
    assert.deepEqual([...t.out().matchAll(/^\t1 {10}arg1 \+ TSBCC_OFFSET = (\d+)$/gm)].map((m) => m[1]).sort(), ["1001", "1002", "1003"], t.out());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("argdist u: and -I: wrong input is a usage error", { skip }, async () => {
  const probe = `u:${caller()}:work`;
  for (const [argv, why] of [
    [["-C", `${probe}(long a):long:a`], /error: .*a USDT probe has no signature/],
    [["-H", `${probe}():u64:arg3`], /error: USDT probe tsbcc:work has 2 arguments \(arg1\.\.arg2\); there is no arg3/],
    [["-C", `${probe}():u64:arg1:arg9 > 0`], /there is no arg9/],
    [["-C", `${probe}():u64:$retval`], /\$retval, \$latency and \$entry\(param\) are for return probes/],
    [["-C", `u:${caller()}:nosuch():u64:arg1`], /error: no USDT probe of .* matches "nosuch"/],
    [["-I", "no/such/header.h", "-C", `${probe}():u64:arg1`], /error: -I\/--include: no\/such\/header\.h is neither a file nor a kernel header/],
    [["-I", "/nonexistent.h", "-C", `${probe}():u64:arg1`], /error: -I\/--include: \/nonexistent\.h: no such file/],
  ] as const) {
    const t = startTool(tool, [...argv]);
    assert.equal(await t.done, 2, `${argv.join(" ")}: ${t.err()}`);
    assert.match(t.err(), why, argv.join(" "));
  }
});
