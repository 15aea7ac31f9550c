// Tier 2: profile samples a real CPU-bound child (gcc -O0 -fno-omit-frame-pointer, spinning in tsbcc_hot_spin for a
// known time) with cpu-clock perf events: the folded output names the hot function under main, the flame graph SVG
// has it as the widest non-root frame, the text blocks follow BCC's layout, and wrong input fails clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/profile.js";
import { profile } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { hotSpin, loadedSince, progCount } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const SPIN_MS = 1500;

test("profile -f -p PID --flamegraph: the hot function is in the folded stacks and the widest SVG frame", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-profile-"));
  try {
    const child = pausedChild(hotSpin(), [String(SPIN_MS)]);
    const svg = join(dir, "cpu.svg");
    const before = progCount();
    const t = startTool(tool, ["-f", "-F", "99", "-p", String(child.pid), "--flamegraph", svg]);
    await loadedSince(before); // -f prints no header
    assert.equal(await child.go(), 0);
    assert.equal(await t.stop(), 0, t.err());
    const lines = t.out().trim().split("\n");
    let hot = 0;
    let total = 0;
    for (const line of lines) {
      const m = /^(\S.*) (\d+)$/.exec(line);
      assert.ok(m, `folded line: ${line}`);
      assert.ok(m[1].startsWith("tsbcchot;"), line);
      total += Number(m[2]);
      if (/;main;tsbcc_hot_spin(;|$)/.test(m[1])) hot += Number(m[2]);
    }
    assert.ok(hot >= 20, `${hot} samples in tsbcc_hot_spin:\n${t.out()}`);
    assert.ok(hot * 10 >= total * 8, `${hot} of ${total} samples in the hot function`);
    const text = readFileSync(svg, "utf8");
    const widths = new Map<string, number>();
    for (const m of text.matchAll(/data-w="(\d+)" data-d="(\d+)" data-kind="\w+" data-name="([^"]*)"/g)) {
      if (m[2] !== "0") widths.set(m[3], Math.max(widths.get(m[3]) ?? 0, Number(m[1])));
    }
    const leafs = [...widths].filter(([n]) => n.startsWith("tsbcc_"));
    assert.deepEqual(leafs.sort((a, b) => b[1] - a[1])[0]?.[0], "tsbcc_hot_spin", JSON.stringify(leafs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("profile -U -p PID 2: BCC's header and stack blocks with comm (pid) and the count", { skip }, async () => {
  const child = pausedChild(hotSpin(), [String(SPIN_MS)]);
  const t = startTool(tool, ["-U", "-p", String(child.pid), "2"]);
  assert.ok(await t.waitFor(/Sampling at 49 Hertz of PID \d+ by user stack for 2 secs\.\n/), t.out() + t.err());
  await child.go();
  assert.equal(await t.done, 0, t.err());
  assert.match(t.out(), new RegExp(`\\n    tsbcc_hot_spin\\n    main\\n(    \\S+\\n)*    -                tsbcchot \\(${child.pid}\\)\\n        \\d+\\n\\n`));
});

test("profile as a library: stacks with samples; --json one object per stack; wrong input", { skip }, async () => {
  const child = pausedChild(hotSpin(), ["800"]);
  const stream = await profile({ pid: child.pid, frequency: 199, kernelStacks: false });
  await child.go();
  stream.close();
  const all = [];
  for await (const stacks of stream) all.push(...stacks);
  const hot = all.filter((s) => s.user.includes("tsbcc_hot_spin"));
  assert.ok(hot.length > 0 && hot.every((s) => s.pid === child.pid && s.comm === "tsbcchot" && s.kernel.length === 0), JSON.stringify(all));
  assert.ok(hot.reduce((n, s) => n + s.value, 0) >= 20);
  await assert.rejects(profile({ frequency: 0 }), /frequency must be/);
  await assert.rejects(profile({ frequency: 9, period: 9 }), /mutually exclusive/);
  await assert.rejects(profile({ userStacks: false, kernelStacks: false }), /nothing to sample/);
  const bad = startTool(tool, ["-U", "-K"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /not allowed with/);
});
