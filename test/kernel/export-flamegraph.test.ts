// Tier 2: a flame graph of a profiled test binary. A CPU-clock perf event sampling only the child runs a BPF
// program that counts user stacks (bpf_get_stackid); the stacks are symbolized with the binary's symbol table
// (non-PIE, -O0 so every function keeps its frame pointer), folded, and drawn by flameGraphSvg. The hot loop is 5x
// the warm one and the sampler uses a fixed 1 ms period of the child's own CPU time (a frequency target lets the
// kernel retune the period mid-run, which skewed the ratio on a loaded machine), so hot > 2x warm has wide margin. The hot function
// is the widest frame at its level; headless Chromium opens the SVG, and a click on the hot function zooms it to the
// full width (checked in the DOM). The profile tool's own sampler and symbolizer replace this scaffolding later.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF, writeFlameGraph, parseFolded, formatFolded, type FoldedStack } from "../../src/index.js";
import { perf } from "../../src/sys/index.js";
import { attachToPerfEvent } from "../../src/link/index.js";
import { haveClang, haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { browserSkipReason, launchChromium } from "../helpers/browser.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed" : process.getuid?.() !== 0 ? "needs root" : await browserSkipReason();

const PROGRAM = `
#include <stdlib.h>
#include <unistd.h>
volatile unsigned long sink;
__attribute__((noinline)) void hot_function(void) { for (long i = 0; i < 2000000; i++) sink += i * i; }
__attribute__((noinline)) void warm_function(void) { for (long i = 0; i < 400000; i++) sink += i * i; }
__attribute__((noinline)) void work(void) { hot_function(); warm_function(); }
int main(int argc, char **argv) { char c; if (read(0, &c, 1) < 0) return 2; long n = atol(argv[1]); for (long i = 0; i < n; i++) work(); return 0; }
`;

function buildProfiled(dir: string): string {
  writeFileSync(join(dir, "hot.c"), PROGRAM);
  const bin = join(dir, "hot");
  execFileSync("gcc", ["-O0", "-fno-omit-frame-pointer", "-no-pie", "-o", bin, join(dir, "hot.c")]);
  return bin;
}

/** addr -> function name from `nm -S` (text symbols with sizes); libc and other mappings are "[libc]". */
function symbolizer(bin: string): (addr: bigint) => string {
  const syms = execFileSync("nm", ["-S", "--defined-only", bin], { encoding: "utf8" }).split("\n")
    .map((l) => l.split(" ")).filter((p) => p.length === 4 && /^[tT]$/.test(p[2]!))
    .map(([a, size, , n]) => [BigInt(`0x${a}`), BigInt(`0x${size}`), n!] as const);
  return (addr) => syms.find(([a, size]) => a <= addr && addr < a + size)?.[2] ?? "[libc]";
}

test("flame graph of a profiled binary: hot function widest, click zooms it in Chromium", { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-flame-"));
  const bin = buildProfiled(dir);
  const child = pausedChild(bin, ["150"]);
  const b = await BPF.load({
    text: `
BPF_STACK_TRACE(stacks, 1024);
BPF_HASH(counts, int, u64);
int on_sample(struct bpf_perf_event_data *ctx) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    int id = stacks.get_stackid(ctx, BPF_F_USER_STACK);
    if (id < 0) return 0;
    counts.increment(id);
    return 0;
}`,
  });
  const fn = b.loadFunc("on_sample", BPF.PERF_EVENT);
  const event = perf.perfEventOpen({ type: perf.PerfType.SOFTWARE, config: perf.PerfSwConfig.CPU_CLOCK, samplePeriod: 1_000_000 }, child.pid, -1, "cpu-clock");
  const link = attachToPerfEvent(fn.fd, event, "cpu-clock sampling");
  const browser = await launchChromium();
  try {
    assert.equal(await child.go(), 0);
    const sym = symbolizer(bin);
    const stacksTable = b.table("stacks");
    const stacks: FoldedStack[] = [];
    for (const [id, n] of b.table("counts").entries()) {
      const frames = [...stacksTable.walk(id)].map((a) => sym(a as bigint)).reverse();
      stacks.push([frames, n]);
    }
    const folded = formatFolded(stacks);
    if (process.env.TSBCC_DEBUG_FLAME) t.diagnostic(folded + JSON.stringify([...b.table("counts").keys()].map((id) => [...stacksTable.walk(id)].map((a) => (a as bigint).toString(16)))));
    const samples = (name: string): number => parseFolded(folded).filter(([f]) => f.at(-1) === name).reduce((a, [, n]) => a + Number(n), 0);
    t.diagnostic(`samples: hot_function ${samples("hot_function")}, warm_function ${samples("warm_function")}`);
    assert.ok(samples("hot_function") > 2 * samples("warm_function"), folded);

    const svgPath = join(dir, "hot.svg");
    writeFlameGraph(svgPath, folded, { title: "hot binary" });
    assert.match(readFileSync(svgPath, "utf8"), /data-name="hot_function"/);
    const page = await browser.newPage({ viewport: { width: 1250, height: 400 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`file://${svgPath}`);
    // At the depth of the hot function, it is the widest frame; the graph shows its name.
    const frames = await page.$$eval("g.f", (gs) => gs.map((g) => ({
      name: g.getAttribute("data-name"), depth: Number(g.getAttribute("data-d")),
      width: g.querySelector("rect")!.getBoundingClientRect().width, text: g.querySelector("text")!.textContent,
    })));
    const hot = frames.filter((f) => f.name === "hot_function").sort((a, b) => b.width - a.width)[0]!;
    const sameDepth = frames.filter((f) => f.depth === hot.depth && f.name !== "hot_function");
    assert.ok(sameDepth.every((f) => f.width < hot.width), JSON.stringify(sameDepth));
    assert.equal(hot.text, "hot_function");
    await page.screenshot({ path: join(tmpdir(), "tsbcc-flame-before.png") });
    await page.click(`g.f[data-name="hot_function"][data-d="${hot.depth}"]`);
    const after = await page.evaluate((d) => {
      const document = (globalThis as any).document; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
      zoom: document.documentElement.getAttribute("data-zoom"),
      width: Number(document.querySelector(`g.f[data-name="hot_function"][data-d="${d}"] rect`)!.getAttribute("width")),
      full: Number(document.documentElement.getAttribute("width")) - 20,
      warmHidden: [...document.querySelectorAll('g.f[data-name="warm_function"]')].every((g: any) => g.classList.contains("hide")),
      unzoomShown: !document.getElementById("unzoom")!.classList.contains("hide"),
      };
    }, hot.depth);
    await page.screenshot({ path: join(tmpdir(), "tsbcc-flame-zoomed.png") });
    assert.equal(after.zoom, "hot_function");
    assert.ok(Math.abs(after.width - after.full) < 0.5, `zoomed width ${after.width} of ${after.full}`);
    assert.ok(after.warmHidden);
    assert.ok(after.unzoomShown);
    await page.click("#unzoom");
    const reset = await page.evaluate(() => (globalThis as any).document.documentElement.hasAttribute("data-zoom")); // eslint-disable-line
    assert.equal(reset, false);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    link.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
