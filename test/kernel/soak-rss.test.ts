// Tier 2 (issue 9, item 7), bounded soak: memory stays flat over 2,000 load / walk / close cycles. Before the fix
// every walk of a 10,240-entry hash allocated fresh whole-map buffers between the allocations of loads and closes,
// and RSS grew ~50 MB while the JS heap stayed flat. Measured in a child process after a warm-up of 1,000 cycles
// (JIT, caches, the walk-buffer pool, the allocator's free lists settle; then it stays flat over 8,000 more): memory outside V8's heap (native) within 5 MB, external memory within 2 MB, and, with
// V8's young generation pinned (--max-semi-space-size=1; by default V8 grows it to 32 MB under a high allocation
// rate, a bounded one-time cost), raw RSS within 5 MB.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");
const here = dirname(fileURLToPath(import.meta.url));

interface Sample { rss: number; native: number; heapUsed: number; external: number }

function soak(flags: string[], warmup: number, cycles: number, attach = false): Sample[] {
  const r = spawnSync(process.execPath, ["--expose-gc", ...flags, join(here, "fixtures", "soak-cycles.js"), String(warmup), String(cycles),
    attach ? "attach" : ""], { encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/**
 * Growth over the run: the median of the last three samples minus the median of the first three, so that one
 * sample caught mid-sweep (V8 frees dead array buffers on a background thread) does not decide; a leak grows
 * steadily and shows in full.
 */
function growth(samples: Sample[], field: keyof Sample): number {
  const med3 = (xs: Sample[]) => xs.map((x) => x[field]).sort((a, b) => a - b)[1]!;
  return med3(samples.slice(-3)) - med3(samples.slice(0, 3));
}

test("2,000 load/walk/close cycles: native memory, external memory and (young generation pinned) RSS stay flat", { skip, timeout: 300_000 }, () => {
  const free = soak([], 1000, 2000);
  const detail = JSON.stringify(free);
  assert.ok(growth(free, "native") < 5, `native memory grew ${growth(free, "native").toFixed(1)} MB: ${detail}`);
  assert.ok(growth(free, "external") < 2, `external memory grew ${growth(free, "external").toFixed(1)} MB: ${detail}`);
  assert.ok(growth(free, "heapUsed") < 2, `JS heap grew ${growth(free, "heapUsed").toFixed(1)} MB: ${detail}`);
  const pinned = soak(["--max-semi-space-size=1"], 1000, 2000);
  assert.ok(growth(pinned, "rss") < 5, `RSS grew ${growth(pinned, "rss").toFixed(1)} MB: ${JSON.stringify(pinned)}`);
});

test("200 cycles with an attached tracepoint closed by closeAsync: native memory stays flat", { skip, timeout: 300_000 }, () => {
  const s = soak([], 50, 200, true);
  assert.ok(growth(s, "native") < 3, `native memory grew ${growth(s, "native").toFixed(1)} MB: ${JSON.stringify(s)}`);
  assert.ok(growth(s, "external") < 2, `external memory grew ${growth(s, "external").toFixed(1)} MB: ${JSON.stringify(s)}`);
});
