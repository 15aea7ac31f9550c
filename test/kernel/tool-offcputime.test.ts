// Tier 2: offcputime (sched_switch raw tracepoint, no kprobes) on a child that sleeps N times M ms from its own
// functions (gcc -O0 -fno-omit-frame-pointer): the child's user stack names them, and the time summed on its
// stacks is at least N * M ms; the kernel side is the sleep syscall path without the tracing frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/offcputime.js";
import { offcputime } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { loadedSince, progCount, sleeper } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 20;
const MS = 10;

test("offcputime -f -p PID: the sleeping child's stack has its own functions and >= N*M ms", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-offcpu-"));
  try {
    const child = pausedChild(sleeper(), [String(MS), String(N)]);
    const svg = join(dir, "off.svg");
    const before = progCount();
    const t = startTool(tool, ["-f", "-p", String(child.pid), "--flamegraph", svg]);
    await loadedSince(before); // -f prints no header
    assert.equal(await child.go(), 0);
    assert.equal(await t.stop(), 0, t.err());
    let napUs = 0;
    for (const line of t.out().trim().split("\n")) {
      const m = /^(\S.*) (\d+)$/.exec(line);
      assert.ok(m, line);
      assert.ok(m[1].startsWith("tsbccnap;"), line);
      if (/;main;tsbcc_sleepy_caller;/.test(m[1])) {
        napUs += Number(m[2]);
        assert.match(m[1], /nanosleep/, "the kernel part is the sleep syscall");
        assert.doesNotMatch(m[1], /bpf_prog_|__traceiter_/);
      }
    }
    assert.ok(napUs >= N * MS * 1000 * 0.95, `${napUs} us off CPU in tsbcc_sleepy_caller:\n${t.out()}`);
    assert.match(readFileSync(svg, "utf8"), /data-name="tsbcc_sleepy_caller"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("offcputime -U -p PID as text, the library, and wrong input", { skip }, async () => {
  const child = pausedChild(sleeper(), [String(MS), "5"]);
  const t = startTool(tool, ["-U", "-p", String(child.pid)]);
  assert.ok(await t.waitFor(/^Tracing off-CPU time \(us\) of PID \d+ by user stack\.\.\. Hit Ctrl-C to end\.\n/), t.err());
  await child.go();
  assert.equal(await t.stop(), 0);
  assert.match(t.out(), new RegExp(`\\n    tsbcc_sleepy_caller\\n    main\\n(    \\S+\\n)*    -                tsbccnap \\(${child.pid}\\)\\n        \\d+\\n`));

  const c2 = pausedChild(sleeper(), [String(MS), "5"]);
  const stream = await offcputime({ pid: c2.pid, kernelStacks: false, minBlockUs: 5000 });
  await c2.go();
  stream.close();
  const all = [];
  for await (const stacks of stream) all.push(...stacks);
  const mine = all.filter((s) => s.user.includes("tsbcc_sleepy_caller"));
  assert.ok(mine.length > 0 && mine.every((s) => s.pid === c2.pid && s.kernel.length === 0), JSON.stringify(all));
  assert.ok(mine.reduce((n, s) => n + s.value, 0) >= 5 * MS * 1000 * 0.95);
  await assert.rejects(offcputime({ pid: 1, tid: 1 }), /mutually exclusive/);
  await assert.rejects(offcputime({ minBlockUs: -1 }), /non-negative/);
  const bad = startTool(tool, ["-p", "1", "-t", "2"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /argument -t\/--tid: not allowed with argument -p\/--pid/);
});
