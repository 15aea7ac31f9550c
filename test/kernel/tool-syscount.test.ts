// Tier 2: syscount counts exactly the N getppid calls a child makes, in BCC's table and in JSON interval reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/syscount.js";
import { syscount, type CounterMetric } from "../../src/tools/index.js";
import { syscallNumber } from "../../src/tools/lib/syscall-table.js";
import { haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { withEnv } from "../helpers/env.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 1234;

test("syscount -p PID counts the child's getppid calls exactly and prints BCC's table at Ctrl-C", { skip }, async () => {
  const child = pausedChild(syscallLoop("getppid"), [String(N)]);
  const t = startTool(tool, ["-p", String(child.pid), "-L"]);
  assert.ok(await t.waitFor(/Ctrl\+C to quit\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0);
  const out = t.out();
  assert.match(out, /^Tracing syscalls, printing top 10\.\.\. Ctrl\+C to quit\.\n\[\d\d:\d\d:\d\d\]\nSYSCALL +COUNT +TIME \(us\)\n/);
  const row = out.split("\n").find((l) => l.startsWith("getppid "));
  assert.ok(row, out);
  const [, count, time] = row!.trim().split(/\s+/);
  assert.equal(Number(count), N);
  assert.ok(Number(time) > 0);
  assert.match(out, /\n\nDetaching\.\.\.\n$/);
});

test("syscount as a library: --syscall and -P give one series for the child with N calls", { skip }, async () => {
  const child = pausedChild(syscallLoop("getppid"), [String(N)]);
  const stream = await syscount({ byProcess: true, syscall: syscallNumber("getppid"), pid: child.pid });
  assert.equal(await child.go(), 0);
  setTimeout(() => stream.close(), 100);
  const reports = [];
  for await (const r of stream) reports.push(r);
  assert.equal(reports.length, 1, "one report at stop");
  const [counter] = reports[0].metrics as CounterMetric[];
  assert.equal(counter.name, "syscalls");
  assert.deepEqual(counter.series.map((s) => [s.labels.pid, s.value]), [[String(child.pid), N]]);
  assert.equal(reports[0].tool, "syscount");
  assert.ok(reports[0].intervalSeconds > 0);
});

test("syscount --json -i prints one interval report per line; wrong input is a usage error", { skip }, async () => {
  const t = startTool(tool, ["--json", "-i", "0.3", "--syscall", "getppid"]);
  const line = await t.waitFor(/^\{.*\}\n/m);
  assert.equal(await t.stop(), 0);
  assert.ok(line, t.out());
  const r = JSON.parse(t.out().split("\n")[0]);
  assert.equal(r.tool, "syscount");
  assert.equal(r.metrics[0].kind, "counter");
  const bad = startTool(tool, ["--syscall", "nosuchcall"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /argument --syscall: no syscall named 'nosuchcall'/);
  await assert.rejects(syscount({ interval: -1 }), /interval must be positive/);
});

test("a new -p value reuses the compiled object: the filter is a load-time constant, each child counted exactly", { skip }, async () => {
  const cache = mkdtempSync(join(tmpdir(), "tsbcc-const-cache-"));
  const files = (): string[] => readdirSync(cache, { recursive: true }).map(String).sort();
  const countFor = async (n: number): Promise<number> => {
    const child = pausedChild(syscallLoop("getppid"), [String(n)]);
    const stream = await syscount({ byProcess: true, syscall: syscallNumber("getppid"), pid: child.pid });
    assert.equal(await child.go(), 0);
    setTimeout(() => stream.close(), 100);
    let value = 0;
    for await (const r of stream) for (const s of (r.metrics[0] as CounterMetric).series) if (s.labels.pid === String(child.pid)) value += s.value;
    return value;
  };
  try {
    await withEnv({ TSBCC_CACHE_DIR: cache }, async () => {
      assert.equal(await countFor(300), 300);
      const afterFirst = files();
      assert.ok(afterFirst.length > 0, "the first run compiled and cached an object");
      assert.equal(await countFor(200), 200);
      assert.deepEqual(files(), afterFirst, "the second pid added nothing to the cache: no new compile");
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
