// Tier 1: the symbol sources that need no process or kernel: the range index, kallsyms parsing (from text), BCC's
// output format, perf maps read as they grow, demangling and xz.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RangeIndex } from "../../src/symbols/range-index.js";
import { KernelSymbols } from "../../src/symbols/kallsyms.js";
import { PerfMap } from "../../src/symbols/perf-map.js";
import { demangle, haveDemangler } from "../../src/symbols/demangle.js";
import { xzDecompress } from "../../src/symbols/xz.js";
import { Symbolizer, formatSymbol, UNKNOWN } from "../../src/symbols/index.js";
import { ArgumentError, TsbccError } from "../../src/errors.js";

test("RangeIndex: nearest covering range wins, gaps and size-0 ranges miss, nested ranges resolve inner first", () => {
  // [100,200) outer, [120,130) inner, [300,300) empty, [400,450)
  const idx = RangeIndex.build({ starts: [400, 100, 300, 120], ends: [450, 200, 300, 130], count: 4 });
  const id = (a: number) => { const i = idx.find(a); return i < 0 ? -1 : idx.ids[i]; };
  assert.equal(id(99), -1);
  assert.equal(id(100), 1);
  assert.equal(id(125), 3);
  assert.equal(id(130), 1); // back in the outer one after the inner ends
  assert.equal(id(199), 1);
  assert.equal(id(200), -1);
  assert.equal(id(300), -1);
  assert.equal(id(449), 0);
  assert.equal(id(450), -1);
  assert.equal(id(Number.MAX_SAFE_INTEGER), -1);
});

test("RangeIndex: the newest of overlapping ranges wins under the 'newest' rule; huge starts take the comparator sort", () => {
  const idx = RangeIndex.build({ starts: [0x1000, 0x1000, 0x1080], ends: [0x1100, 0x1040, 0x10c0], count: 3 }, "newest");
  const id = (a: number) => idx.ids[idx.find(a)];
  assert.equal(id(0x1010), 1);
  assert.equal(id(0x1050), 0);
  assert.equal(id(0x1090), 2);
  const big = 2 ** 52;
  const wide = RangeIndex.build({ starts: [big + 10, 5, big], ends: [big + 20, 6, big + 10], count: 3 });
  assert.deepEqual([...wide.starts], [5, big, big + 10]);
  assert.equal(wide.ids[wide.find(big + 15)], 0);
});

test("RangeIndex: bucketed lookups agree with a linear scan, across a gap that spans most of the range", () => {
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (const layout of ["dense", "gap-high", "gap-low"]) {
    const starts: number[] = [];
    for (let i = 0; i < 3000; i++) starts.push(rnd(1 << 20));
    for (let i = 0; i < 40; i++) starts.push(layout === "gap-high" ? 2 ** 40 + rnd(1 << 16) : layout === "gap-low" ? rnd(1 << 10) - 2 ** 30 + 2 ** 31 : rnd(1 << 20));
    if (layout === "gap-low") for (let i = 0; i < 3000; i++) starts[i]! += 2 ** 40;
    const ends = starts.map((x) => x + 1 + rnd(300));
    const idx = RangeIndex.build({ starts, ends, count: starts.length });
    const sorted = [...idx.starts];
    const probes = [...starts.slice(0, 500), ...starts.slice(-40).map((x) => x + 5), 0, 2 ** 39, 2 ** 41, ...Array.from({ length: 500 }, () => rnd(1 << 21))];
    for (const a of probes) {
      let want = -1;
      for (let i = 0; i < sorted.length; i++) if (sorted[i]! <= a) want = i;
      assert.equal(idx.floor(a), want, `${layout}: floor(${a})`);
    }
  }
});

const KALLSYMS = [
  "ffffffff81000000 T _stext",
  "ffffffff81000000 T _text",
  "ffffffff81000100 t first_fn",
  "ffffffff81000180 D some_data",
  "ffffffff81000200 T second_fn",
  "0000000000000000 T hidden_by_kptr_restrict",
  "this line is garbage",
  "ffffffffc0001000 t mod_fn\t[dummy]",
  "ffffffffc0000800 t bpf_prog_abc_handler\t[bpf]",
  "ffffffff81000300 W weak_fn",
  "",
].join("\n");

test("kallsyms: text symbols by address with offsets and modules, names to addresses, zero and garbage lines skipped", () => {
  const k = KernelSymbols.parse(KALLSYMS);
  assert.equal(k.size, 7);
  assert.deepEqual(k.resolve(0xffffffff81000000n), { name: "_text", offset: 0, module: "kernel" }); // last alias wins
  assert.deepEqual(k.resolve(0xffffffff81000190n), { name: "first_fn", offset: 0x90, module: "kernel" }); // data is not a function
  assert.deepEqual(k.resolve(0xffffffff81000205n), { name: "second_fn", offset: 5, module: "kernel" });
  assert.deepEqual(k.resolve(0xffffffffc0001004n), { name: "mod_fn", offset: 4, module: "dummy" });
  assert.deepEqual(k.resolve(0xffffffffc0000810n), { name: "bpf_prog_abc_handler", offset: 0x10, module: "bpf" });
  assert.equal(k.resolve(0xffffffff80ffffffn), undefined);
  assert.equal(k.resolve(0n), undefined);
  assert.equal(k.address("some_data"), 0xffffffff81000180n);
  assert.equal(k.address("mod_fn"), 0xffffffffc0001000n);
  assert.equal(k.address("hidden_by_kptr_restrict"), undefined);
  assert.equal(k.address("nope"), undefined);
  assert.equal(KernelSymbols.parse("").resolve(0xffffffff81000000n), undefined);
});

test("Symbolizer.ksym/ksymname over a saved kallsyms: BCC's formats, -1n when unknown, wrong input rejected", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-ksym-"));
  try {
    writeFileSync(join(dir, "kallsyms"), KALLSYMS);
    const s = new Symbolizer({ kallsymsPath: join(dir, "kallsyms") });
    assert.equal(s.ksym(0xffffffff81000201n), "second_fn");
    assert.equal(s.ksym(0xffffffff81000201n, { showOffset: true }), "second_fn+0x1");
    assert.equal(s.ksym(0xffffffff81000201n, { showOffset: true, showModule: true }), "second_fn+0x1 [kernel]");
    assert.equal(s.ksym(0xffffffffc0001000n, { showModule: true }), "mod_fn [dummy]");
    assert.equal(s.ksym(12345n, { showModule: true, showOffset: true }), UNKNOWN);
    assert.equal(s.sym(0xffffffff81000201n, -1), "second_fn"); // negative pid = kernel, as in BCC
    assert.equal(s.ksymname("second_fn"), 0xffffffff81000200n);
    assert.equal(s.ksymname("no_such_symbol"), -1n);
    assert.equal(s.symName("second_fn", -1), 0xffffffff81000200n);
    for (const bad of [-1n, 1n << 64n, -5, 1.5, Number.NaN, "0x10", null, undefined]) {
      assert.throws(() => s.ksym(bad as never), (e: unknown) => e instanceof ArgumentError && e.argument === "addr");
    }
    assert.throws(() => s.ksymname(""), ArgumentError);
    assert.throws(() => s.ksymname(42 as never), ArgumentError);
    assert.throws(() => s.sym(1n, 1.5), (e: unknown) => e instanceof ArgumentError && e.argument === "pid");
    assert.throws(() => new Symbolizer({ debugRoot: "" }), ArgumentError);
    // An unreadable kallsyms makes every lookup unknown rather than throwing.
    const missing = new Symbolizer({ kallsymsPath: join(dir, "absent") });
    assert.equal(missing.ksym(0xffffffff81000201n), UNKNOWN);
    assert.equal(missing.ksymname("second_fn"), -1n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("formatSymbol: offsets only for known names, module base names", () => {
  assert.equal(formatSymbol("f", 16, "/usr/lib/libc.so.6", { showOffset: true, showModule: true }), "f+0x10 [libc.so.6]");
  assert.equal(formatSymbol(undefined, 16, "/usr/lib/libc.so.6", { showOffset: true, showModule: true }), "[unknown] [libc.so.6]");
  assert.equal(formatSymbol(undefined, 0, "", { showModule: true }), "[unknown]");
});

test("PerfMap: read as it grows, partial lines wait for their newline, newest entry wins, garbage lines skipped", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-perfmap-"));
  try {
    const path = join(dir, "perf-1.map");
    const pm = new PerfMap(path);
    assert.equal(pm.refresh(), false); // not written yet: not an error
    assert.equal(pm.lookup(0x1000), undefined);
    writeFileSync(path, "1000 100 LazyCompile:*hot /app.js:1\nnot a line\n2000 0 empty\n3000 40 Builtin:Part");
    assert.equal(pm.refresh(), true);
    assert.deepEqual(pm.lookup(0x1010), { name: "LazyCompile:*hot /app.js:1", start: 0x1000 });
    assert.equal(pm.lookup(0x2000), undefined);
    assert.equal(pm.lookup(0x3000), undefined); // its line is not finished yet
    appendFileSync(path, "ial\n1000 80 JS:*moved /app.js:9\n");
    assert.equal(pm.refresh(), true);
    assert.deepEqual(pm.lookup(0x3010), { name: "Builtin:Partial", start: 0x3000 });
    assert.equal(pm.lookup(0x1010)!.name, "JS:*moved /app.js:9"); // newer line covers the old range
    assert.equal(pm.lookup(0x10a0)!.name, "LazyCompile:*hot /app.js:1");
    assert.equal(pm.addressOf("Builtin:Partial"), 0x3000);
    assert.equal(pm.refresh(), false);
    writeFileSync(path, "5000 10 fresh\n"); // truncated and rewritten: read again from the start
    assert.equal(pm.refresh(), true);
    assert.equal(pm.lookup(0x1010), undefined);
    assert.equal(pm.lookup(0x5001)!.name, "fresh");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("demangle: Itanium C++ names through the demangler package; other names unchanged", (t) => {
  if (!haveDemangler()) return t.skip("gecko-profiler-demangle is not installed (or Node < 20.19 cannot require it)");
  assert.equal(demangle("_ZN2v88internal7Isolate4InitEv"), "v8::internal::Isolate::Init()");
  assert.equal(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"), "std::vector<int, std::allocator<int> >::push_back(int const&)");
  assert.equal(demangle("main"), "main");
  assert.equal(demangle("_Zgarbage"), "_Zgarbage");
  assert.equal(demangle(""), "");
});

test("xz: MiniDebugInfo decompression through the npm package and through the xz command; corrupt data gives undefined", (t) => {
  let packed: Uint8Array;
  try {
    packed = new Uint8Array(execFileSync("xz", ["-c"], { input: "minidebuginfo payload" }));
  } catch {
    return t.skip("the xz command is not installed");
  }
  for (const useCommand of [false, true]) {
    assert.equal(Buffer.from(xzDecompress(packed, useCommand)!).toString(), "minidebuginfo payload");
    assert.equal(xzDecompress(new Uint8Array([1, 2, 3, 4]), useCommand), undefined);
  }
});

test("Symbolizer: errors are TsbccErrors naming the argument", () => {
  const s = new Symbolizer();
  assert.throws(() => s.addModule(""), (e: unknown) => e instanceof ArgumentError && e.argument === "path");
  assert.throws(() => s.addModule("/nonexistent/tsbcc/file"), (e: unknown) => e instanceof ArgumentError && e.argument === "path");
  assert.throws(() => s.symBuildId(null as never), (e: unknown) => e instanceof TsbccError && e.code === "BAD_ARGUMENT");
  assert.throws(() => s.symBuildId({ buildId: "ab", offset: -1 }), ArgumentError);
  assert.equal(s.symBuildId({ buildId: "00".repeat(20), offset: 0x1000 }), UNKNOWN);
  assert.throws(() => s.symName("", 1), ArgumentError);
  assert.throws(() => s.rememberProcess("1" as never), ArgumentError);
});
