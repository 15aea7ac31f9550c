// Tier 2: the live page (`tsbcc web`'s server) in headless Chromium. The heat maps draw; as this test makes direct
// block I/O, wake-ups and syscalls, the counts in the DOM grow (by at least the I/Os we made), the child's process
// shows up in the top-syscalls table with its calls, and two screenshots taken before and after differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLiveView } from "../../src/tools/index.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { browserSkipReason, launchChromium } from "../helpers/browser.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed" : process.getuid?.() !== 0 ? "needs root" : await browserSkipReason();
const SHOTS = join(tmpdir(), "tsbcc-web-shots");

/* eslint-disable @typescript-eslint/no-explicit-any */
const count = (id: string) => (globalThis as any).document.getElementById(id)?.getAttribute("data-count") ?? "0";

test("live page draws heat maps and its DOM follows I/O, wake-ups and syscalls", { skip, timeout: 120_000 }, async (t) => {
  const view = await startLiveView({ port: 0, intervalMs: 500 });
  const browser = await launchChromium();
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-web-"));
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${view.url}/`);
    await page.waitForFunction(() => Number((globalThis as any).document.body.getAttribute("data-frames")) >= 3, null, { timeout: 20_000 });
    const before = { runq: Number(await page.evaluate(count, "runqlat-total")), bio: Number(await page.evaluate(count, "biolatency-total")) };
    const columns = await page.$eval("#runqlat", (c) => Number(c.getAttribute("data-columns")));
    assert.ok(columns >= 3, `heat map has ${columns} columns`);
    const shot1 = await page.screenshot({ path: join(SHOTS + "-1.png") });

    // 300 synchronous direct writes: 300 block requests issued and completed.
    execFileSync("dd", ["if=/dev/zero", `of=${join(dir, "io")}`, "bs=4k", "count=300", "oflag=direct,sync"], { stdio: "ignore" });
    // 200 short sleeps: 200 wake-ups that pass through a run queue.
    writeFileSync(join(dir, "sleep.sh"), "i=0; while [ $i -lt 200 ]; do sleep 0.001; i=$((i+1)); done\n");
    await new Promise((r) => spawn("sh", [join(dir, "sleep.sh")], { stdio: "ignore" }).on("exit", r));
    const N = 3_000_000;
    const loop = pausedChild(syscallLoop("getppid"), [String(N)]);
    let row: { total: number; comm: string } | undefined;
    const watch = (async () => {
      for (const end = Date.now() + 60_000; Date.now() < end && !(row && row.total >= N);) {
        row = await page.evaluate((pid) => {
          const tr = (globalThis as any).document.querySelector(`#top-body tr[data-pid="${pid}"]`);
          return tr ? { total: Number(tr.getAttribute("data-total")), comm: tr.getAttribute("data-comm") } : undefined;
        }, loop.pid) ?? row;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    assert.equal(await loop.go(), 0);
    await watch;
    await page.waitForTimeout(1200);
    const after = { runq: Number(await page.evaluate(count, "runqlat-total")), bio: Number(await page.evaluate(count, "biolatency-total")) };
    const shot2 = await page.screenshot({ path: join(SHOTS + "-2.png") });
    t.diagnostic(`before ${JSON.stringify(before)}, after ${JSON.stringify(after)}, child row ${JSON.stringify(row)}; screenshots ${SHOTS}-{1,2}.png`);
    assert.ok(after.bio - before.bio >= 300, `block I/Os grew by ${after.bio - before.bio}`);
    assert.ok(after.runq - before.runq >= 200, `run queue events grew by ${after.runq - before.runq}`);
    assert.ok(row, "the syscall loop never showed up in the top table");
    assert.ok(row!.total >= N && row!.total < N + 500, `child's syscalls ${row!.total}, made ${N} getppid calls`);
    assert.equal(row!.comm, syscallLoop("getppid").split("/").pop()!.slice(0, 15));
    assert.notDeepEqual(shot1, shot2);
    assert.match(await page.textContent("#flame-why") ?? "", /no stack source/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await view.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("live view refuses a non-loopback host unless allowed, and wrong options", { skip: process.getuid?.() !== 0 ? "needs root" : false }, async () => {
  await assert.rejects(startLiveView({ host: "0.0.0.0", port: 0 }), { code: "BAD_ARGUMENT", argument: "host" });
  await assert.rejects(startLiveView({ intervalMs: 5 }), { code: "BAD_ARGUMENT", argument: "intervalMs" });
  await assert.rejects(startLiveView({ source: {} as never }), { code: "BAD_ARGUMENT", argument: "source" });
  // Taken port: ListenError, and the sources it started are closed again.
  const first = await startLiveView({ port: 0, source: { provides: [], missing: {}, read: () => ({}), close: () => {} } });
  try {
    let closed = false;
    await assert.rejects(startLiveView({ port: first.port, source: { provides: [], missing: {}, read: () => ({}), close: () => { closed = true; } } }),
      { code: "LISTEN" });
    assert.equal(closed, false, "a source passed in belongs to the caller");
    // With the built-in sources (the runqlat/biolatency/syscount tools): they are loaded, then released again when the port is taken.
    const fds = liveFds().size;
    await assert.rejects(startLiveView({ port: first.port }), { code: "LISTEN" });
    assert.equal(liveFds().size, fds);
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: "127.0.0.1", port: first.port, path: "/", headers: { host: "evil.example:80" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject).end();
    });
    assert.equal(status, 403);
  } finally {
    await first.close();
  }
});

test("the flame panel draws a FlameSource's folded stacks and refreshes them", { skip, timeout: 60_000 }, async () => {
  // Three versions of the graph, then no more (folded() gives nothing new): the page's frame stops reloading, so
  // reading it cannot race a navigation.
  let n = 0;
  const view = await startLiveView({
    port: 0, intervalMs: 200, flameEvery: 2,
    source: { provides: [], missing: {}, read: () => ({ runqlat: [0, 1] }), close: () => {} },
    flame: { folded: () => (n < 3 ? `main;step_${++n} 5\nmain;other 2\n` : undefined) },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    await page.goto(`${view.url}/`);
    await page.waitForFunction(() => /v=3$/.test((globalThis as any).document.getElementById("flame").src), null, { timeout: 10_000 });
    const frame = page.frameLocator("#flame");
    await frame.locator('g.f[data-name="step_3"]').waitFor({ timeout: 10_000 });
    const names = await frame.locator("g.f").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-name")));
    assert.ok(names.includes("main") && names.includes("other"), names.join(","));
    assert.ok(!names.includes("step_1") && !names.includes("step_2"), "the graph was not refreshed");
    assert.match(await frame.locator('g.f[data-d="2"]').first().getAttribute("data-name") ?? "", /^(step_3|other)$/);
    assert.equal(await page.textContent("#flame-why"), "");
  } finally {
    await browser.close();
    await view.close();
  }
});

test("tsbcc web command: serves until aborted, --help, wrong arguments", { skip: process.getuid?.() !== 0 ? "needs root" : false, timeout: 60_000 }, async () => {
  const { tool } = await import("../../src/tools/web/command.js");
  const { runTool, toolUsage } = await import("../../src/tools/lib/tool.js");
  let out = "";
  let err = "";
  const ctx = (signal: AbortSignal) => ({ out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) }, signal });
  const run = (argv: string[], signal: AbortSignal) => runTool(tool, argv, ctx(signal));
  assert.equal(await run(["--help"], new AbortController().signal), 0);
  assert.equal(out, toolUsage(tool.spec));
  for (const argv of [["--port", "x"], ["--interval", "0"], ["--bogus"], ["extra"]]) {
    err = "";
    assert.equal(await run(argv, new AbortController().signal), 2, argv.join(" "));
    assert.match(err, /error:/, argv.join(" "));
  }
  err = "";
  assert.notEqual(await run(["--host", "0.0.0.0", "--port", "0"], new AbortController().signal), 0);
  assert.match(err, /host/);
  out = "";
  const ac = new AbortController();
  const done = run(["--port", "0", "--interval", "0.5"], ac.signal);
  for (let i = 0; i < 300 && !out.includes("serving"); i++) await new Promise((r) => setTimeout(r, 50));
  const url = /serving (http:\/\/\S+)\//.exec(out)?.[1];
  assert.ok(url, out);
  const page = await (await fetch(`${url}/`)).text();
  assert.match(page, /<canvas id="runqlat">/);
  ac.abort();
  assert.equal(await done, 0);
  await assert.rejects(fetch(`${url}/`));
});
