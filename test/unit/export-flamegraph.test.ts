// Tier 1: flame graph SVG structure from folded stacks of a known shape: one frame per (path, depth) with its
// sample range, widths proportional to samples, kinds (kernel / JavaScript / native) coloured apart, escaping,
// the interactive parts present, folded text round trip, and wrong input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flameGraphSvg, foldFrames, formatFolded, frameKind, parseFolded, writeFlameGraph, writeFolded } from "../../src/export/index.js";
import { fitText, frameColor } from "../../src/export/flamegraph.js";
import { TsbccError } from "../../src/errors.js";

const FOLDED = `main;compute;hot_loop 600
main;compute;cold 100
main;read;vfs_read_[k];ext4_read_[k] 200
node;JS:*handleRequest /srv/app.js:12;LazyCompile:~parse /srv/p.js:3 100
`;

interface Frame { name: string; x: number; w: number; d: number; kind: string; width: number; fill: string }

function frames(svg: string): Frame[] {
  return [...svg.matchAll(/<g class="f" data-x="(\d+)" data-w="(\d+)" data-d="(\d+)" data-kind="(\w+)" data-name="([^"]*)">.*?<rect [^>]*width="([\d.]+)"[^>]*fill="([^"]+)"/g)]
    .map((m) => ({ x: +m[1]!, w: +m[2]!, d: +m[3]!, kind: m[4]!, name: m[5]!, width: +m[6]!, fill: m[7]! }));
}

test("frames carry sample ranges and widths proportional to samples; the hot function is widest at its depth", () => {
  const svg = flameGraphSvg(FOLDED, { title: "t", width: 1020 });
  const fs = frames(svg);
  const by = (n: string) => fs.find((f) => f.name === n)!;
  assert.equal(by("all").w, 1000);
  assert.equal(by("main").w, 900);
  assert.equal(by("compute").x, 0);
  assert.equal(by("read").x, 700); // siblings sorted by name: compute, then read
  assert.equal(by("hot_loop").width, 600); // 1000 px inside a 1020 px image with 10 px margins
  const depth2 = fs.filter((f) => f.d === by("hot_loop").d);
  assert.equal(depth2.sort((a, b) => b.width - a.width)[0]!.name, "hot_loop");
  assert.match(svg, /<title>hot_loop \(600 samples, 60\.00%\)<\/title>/);
  assert.match(svg, /data-total="1000"/);
});

test("kinds: kernel _[k] suffix, JS perf-map names, native; each kind in its own hue band", () => {
  assert.equal(frameKind("ext4_read_[k]"), "kernel");
  for (const js of ["JS:*handleRequest /srv/app.js:12", "LazyCompile:~parse /srv/p.js:3", "Function:foo", "bar /x/y.mjs:4:2", "f_[j]"]) {
    assert.equal(frameKind(js), "js", js);
  }
  assert.equal(frameKind("hot_loop"), "native");
  assert.equal(frameKind("node"), "native");
  const fs = frames(flameGraphSvg(FOLDED));
  const kinds = Object.fromEntries(fs.map((f) => [f.name, f.kind]));
  assert.equal(kinds.ext4_read, "kernel"); // the suffix is not shown
  assert.equal(kinds["JS:*handleRequest /srv/app.js:12"], "js");
  assert.equal(kinds.compute, "native");
  assert.equal(kinds.all, "root");
  const hue = (c: string) => Number(/^hsl\((\d+),/.exec(c)![1]) % 360;
  for (const f of fs) {
    if (f.kind === "kernel") assert.ok(hue(f.fill) >= 28 && hue(f.fill) <= 38, f.fill);
    if (f.kind === "js") assert.ok(hue(f.fill) >= 95 && hue(f.fill) <= 135, f.fill);
    if (f.kind === "native") assert.ok(hue(f.fill) >= 355 || hue(f.fill) <= 12, f.fill);
  }
  assert.equal(frameColor("x"), frameColor("x")); // stable
});

test("interactive parts: script, search and reset buttons, details line; names escaped; text fits", () => {
  const svg = flameGraphSvg("a<b>;c&d 5\n", { title: "x<y", subtitle: "s" });
  for (const id of ["unzoom", "search", "details", "matched", "title", "subtitle", "legend"]) assert.match(svg, new RegExp(`id="${id}"`));
  assert.match(svg, /<script type="text\/ecmascript"><!\[CDATA\[/);
  assert.match(svg, /data-name="a&lt;b&gt;"/);
  assert.match(svg, /data-name="c&amp;d"/);
  assert.match(svg, /<text id="title"[^>]*>x&lt;y<\/text>/);
  assert.equal(fitText("abcdefghij", 1000), "abcdefghij");
  assert.equal(fitText("abcdefghij", 6 + 7 * 5), "abc..");
  assert.equal(fitText("abc", 10), "");
  // Icicle layout: the root at the top.
  const icicle = flameGraphSvg("a;b 1\n", { inverted: true });
  const ys = [...icicle.matchAll(/data-d="(\d)".*?<rect x="[\d.]+" y="(\d+)"/g)].map((m) => [+m[1]!, +m[2]!]);
  assert.ok(ys.every(([d, y], _i, all) => all.every(([d2, y2]) => d2! <= d! || y2! > y!)));
});

test("folded text: parse sums equal stacks and skips junk; format sorts and round-trips; files", () => {
  const parsed = parseFolded("a;b 2\n\njunk line\na;b 3\nc 1\n");
  assert.deepEqual(parsed, [[["a", "b"], 5n], [["c"], 1n]]);
  const text = formatFolded([[["z"], 1], [["a", "semi;colon"], 2n]]);
  assert.equal(text, "a;semi:colon 2\nz 1\n");
  assert.deepEqual(parseFolded(text), [[["a", "semi:colon"], 2n], [["z"], 1n]]);
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-fg-"));
  try {
    writeFolded(join(dir, "x.folded"), [[["a", "b"], 3]]);
    assert.equal(readFileSync(join(dir, "x.folded"), "utf8"), "a;b 3\n");
    writeFlameGraph(join(dir, "x.svg"), readFileSync(join(dir, "x.folded"), "utf8"));
    assert.match(readFileSync(join(dir, "x.svg"), "utf8"), /^<\?xml[^]*<\/svg>\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Stacks as walked (innermost first) -> folded order, kernel frames annotated and above the user frames.
  const frames2 = foldFrames({ comm: "node", user: ["leaf", "main"], kernel: ["do_sys", "entry_SYSCALL"], delimiter: true });
  assert.deepEqual(frames2, ["node", "main", "leaf", "-", "entry_SYSCALL_[k]", "do_sys_[k]"]);
  assert.deepEqual(foldFrames({ kernel: ["f"], annotateKernel: false }), ["f"]);
  // An empty profile still renders (the "all" frame is omitted, nothing to show).
  assert.equal(frames(flameGraphSvg("")).length, 0);
});

test("wrong input: BAD_ARGUMENT naming the argument", () => {
  const bad = (fn: () => unknown, argument: string) =>
    assert.throws(fn, (e: unknown) => e instanceof TsbccError && e.code === "BAD_ARGUMENT" && (e as { argument?: string }).argument === argument);
  bad(() => flameGraphSvg(42 as never), "stacks");
  bad(() => flameGraphSvg([[["a"], -1]]), "stacks");
  bad(() => flameGraphSvg([["a", 1]] as never), "stacks");
  bad(() => flameGraphSvg("a 1", { width: 10 }), "width");
  bad(() => parseFolded(null as never), "folded");
  bad(() => writeFlameGraph("", "a 1"), "file");
  bad(() => writeFolded("", []), "file");
  bad(() => foldFrames(null as never), "parts");
});
