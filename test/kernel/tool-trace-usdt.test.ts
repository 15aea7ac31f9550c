// Tier 2: trace reads USDT probe arguments. The test binary fires tsbcc:work(i, i*10) for i = 1..N: arg1/arg2 in
// the format and the filter are the probe's own arguments (not registers), exactly as passed. A probe in a shared
// library of a process (-p, libtsbccprobe.so's tsbcclib:step(i, -7*i), a signed 4-byte argument) by library name
// and by BCC's u:LIB:PROVIDER:PROBE form. -v prints the program (the USDT argument reads included) and still
// traces. Wrong input (an argument the probe does not have, an unknown provider, a bad probe) is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/trace.js";
import { trace } from "../../src/tools/index.js";
import { requireTool } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller, mapped, usdtLibCaller } from "../helpers/usertrace-targets.js";

requireTool("gcc", "gcc");
const skip = await toolSkip();
const N = 6;

const squash = (out: string): string[] => out.trim().split("\n").slice(1).map((l) => l.replace(/ +/g, " "));

test("trace 'u:BIN:work (arg1 >= 3) \"a=%d b=%ld\", arg1, arg2': the probe's own arguments, filtered", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const t = startTool(tool, ["-p", String(child.pid), `u:${caller()}:work (arg1 >= 3) "a=%d b=%ld", arg1, arg2`]);
  assert.ok(await t.waitFor(/^PID/), t.err());
  assert.equal(await child.go(), 0);
  await t.waitFor(new RegExp(`a=${N} b=${N * 10}\\n`), 5000);
  assert.equal(await t.stop(), 0);
  assert.deepEqual(squash(t.out()), [3, 4, 5, 6].map((i) => `${child.pid} ${child.pid} tsbcccall tsbcc:work a=${i} b=${i * 10}`));
});

test("trace -p PID on a USDT probe in the process's shared library (signed argument), with and without the provider", { skip }, async () => {
  const { exe } = usdtLibCaller();
  const child = pausedChild(exe, ["4"]);
  await mapped(child.pid, "/libtsbccprobe.so");
  const stream = await trace({ pid: child.pid, maxEvents: 6, duration: 20, probes: [
    'u:tsbccprobe:step "i=%d neg=%d", arg1, arg2',
    'u:libtsbccprobe.so:tsbcclib:step (arg2 < -14) "neg=%ld", arg2',
  ] });
  assert.equal(await child.go(), 0);
  const msgs: string[] = [];
  for await (const ev of stream) {
    assert.equal(ev.function, "tsbcclib:step");
    msgs.push(ev.message);
  }
  assert.deepEqual(msgs.filter((m) => m.startsWith("i=")), [1, 2, 3, 4].map((i) => `i=${i} neg=${-7 * i}`));
  assert.deepEqual(msgs.filter((m) => m.startsWith("neg=")), ["neg=-21", "neg=-28"]);
});

test("trace -v prints the program with its USDT argument reads, then traces", { skip }, async () => {
  const child = pausedChild(caller(), ["2"]);
  const t = startTool(tool, ["-v", "-p", String(child.pid), `u:${caller()}:tsbcc:work "b=%d", arg2`]);
  assert.ok(await t.waitFor(/^PID/), t.err());
  assert.match(t.err(), /bpf_usdt_readarg\(2, ctx, &__usdt_arg2\);/);
  assert.match(t.err(), /case 2: \/\* -8@%rax \*\//); // the generated reader of argument 2 (in %rax at the site)
  assert.match(t.err(), /ev->n\[0\] = \(u64\)\(__usdt_arg2\);/);
  assert.equal(await child.go(), 0);
  await t.waitFor(/b=20\n/, 5000);
  assert.equal(await t.stop(), 0);
  assert.deepEqual(squash(t.out()).map((l) => l.split(" ").pop()), ["b=10", "b=20"]);
});

test("trace USDT: wrong input is a usage error", { skip }, async () => {
  for (const [argv, why] of [
    [[`u:${caller()}:work "%d", arg3`], /error: USDT probe tsbcc:work has 2 arguments \(arg1\.\.arg2\); there is no arg3/],
    [[`u:${caller()}:work (arg0 > 1)`], /there is no arg0/],
    [[`u:${caller()}:nosuch:work`], /error: no USDT probe of .* matches "nosuch:work"/],
    [["u:/nonexistent/binary:work"], /error: /],
    [[`u:${caller()}:work "%d %d", arg1`], /2 conversions for 1 arguments/],
  ] as const) {
    const t = startTool(tool, [...argv]);
    assert.equal(await t.done, 2, `${argv.join(" ")}: ${t.err()}`);
    assert.match(t.err(), why, argv.join(" "));
  }
});
