// Tier 2: nodestall on a node child (--perf-basic-prof) whose loop runs three 300 ms busy loops from timers: the
// histogram has its stalls at >= 256 ms, the worst stall is >= 300 ms and its sampled stack names the
// JS function (from the perf map) above node's timer code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/nodestall.js";
import { nodestall } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const BUSY_MS = 300;
// The child times its busy loop with Date.now() (whole milliseconds), so a loop can end up to 1 ms early.
const AT_LEAST_MS = BUSY_MS - 1;
const SCRIPT = `function tsbccBusyLoop(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x++; return x; }
let n = 0;
const step = () => { tsbccBusyLoop(${BUSY_MS}); if (++n < 3) setTimeout(step, 100); else setTimeout(() => process.exit(0), 100); };
process.stdin.once("data", () => setTimeout(step, 100));`;

function nodeChild(): { pid: number; go(): Promise<number>; started(): Promise<void> } {
  // A scratch working directory: V8 writes an isolate log there (not into the checkout), removed at exit.
  const cwd = mkdtempSync(join(tmpdir(), "tsbcc-nodestall-"));
  const c = spawn(process.execPath, ["--perf-basic-prof", "-e", SCRIPT], { stdio: ["pipe", "ignore", "inherit"], cwd });
  const exited = new Promise<number>((r) => c.on("exit", (code) => {
    rmSync(cwd, { recursive: true, force: true });
    r(code ?? -1);
  }));
  const map = `/tmp/perf-${c.pid}.map`;
  return {
    pid: c.pid!,
    go: () => { c.stdin!.write("x"); return exited; },
    // Node has started once V8 has written code entries to its perf map (a fixed sleep was too short under load).
    async started() {
      for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
        if (existsSync(map) && statSync(map).size > 0) return;
        if (c.exitCode !== null) break;
      }
      throw new Error(`node ${c.pid} wrote nothing to ${map}`);
    },
  };
}

test("nodestall -p PID: three >= 300 ms stalls in the histogram, the worst with the JS function's stack", { skip }, async () => {
  const child = nodeChild();
  await child.started();
  const t = startTool(tool, ["-p", String(child.pid)]);
  assert.ok(await t.waitFor(new RegExp(`^Tracing event loop stalls of PID ${child.pid}\\.\\.\\. Hit Ctrl-C to end\\.\\n`)), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  // Three busy loops; on a loaded machine two may run in one loop turn (one longer stall).
  const long = [...out.matchAll(/^ +(\d+) -> \d+ +: (\d+) +\|/gm)].filter((m) => Number(m[1]) >= 256).reduce((n, m) => n + Number(m[2]), 0);
  assert.ok(long >= 2, out);
  const worst = /\nWorst stalls:\n  (\d+\.\d\d) ms at [\d:.]+, (\d+) stack samples\n((?:    .*\n)+)/.exec(out);
  assert.ok(worst, out);
  assert.ok(Number(worst[1]) >= AT_LEAST_MS, worst[0]);
  assert.match(worst[3], /tsbccBusyLoop/, "the JS function, named from node's perf map");
  assert.match(worst[3], /uv_run/, "below it, the event loop");
});

test("nodestall as a library (usecs), wrong input", { skip }, async () => {
  const child = nodeChild();
  await child.started();
  const stream = await nodestall({ pid: child.pid, unit: "usecs", top: 2 });
  await child.go();
  stream.close();
  const reports = [];
  for await (const r of stream) reports.push(r);
  assert.equal(reports[0]!.histogram.unit, "usecs");
  assert.ok(reports[0]!.stalls.length >= 1 && reports[0]!.stalls.length <= 2, JSON.stringify(reports[0]!.stalls));
  assert.ok(reports[0]!.stalls.every((s) => s.durationMs >= AT_LEAST_MS));
  await assert.rejects(nodestall({ pid: 0 }), /pid must be/);
  await assert.rejects(nodestall({ pid: 1, unit: "secs" as "usecs" }), /unit must be/);
  const bad = startTool(tool, []);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /required: -p\/--pid/);
});
