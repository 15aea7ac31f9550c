import { test } from "node:test";
import assert from "node:assert/strict";
import { TsbccError } from "../../src/errors.js";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import {
  formatJsonHist,
  formatLinearHist,
  formatLog2Hist,
  histStars,
  printLog2Hist,
  pyRepr,
  type Count,
  type HistData,
  type HistKey,
  type HistOptions,
} from "../../src/api/tables/histogram.js";

// dist/test/unit/ -> repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "hist");

interface Case {
  name: string;
  fn: "log2" | "linear" | "json" | "stars";
  vals?: (number | string)[];
  slots?: [number, number | string][];
  fields?: [string, string][];
  entries?: [[number | string, number], number | string][];
  valType?: string;
  strip?: boolean;
  sectionHeader?: string;
  printFn?: "hex" | "upper";
  bucketFn?: "decode" | "div10";
  sortFn?: "sorted";
  stars?: [number | string, number | string, number];
}

const cases: Case[] = JSON.parse(readFileSync(join(FIXTURES, "cases.json"), "utf8"));

// JSON strings carry counts beyond 2^53: they become bigints, everything else stays a number.
const count = (v: number | string): Count => (typeof v === "string" ? BigInt(v) : v);

function keyOf(c: Case, bucket: number | string, slot: number): HistKey {
  const key: Record<string, unknown> = {};
  c.fields!.forEach(([name, type], i) => {
    if (i === 0) key[name] = type === "bytes" ? Buffer.from(String(bucket), "latin1") : bucket;
    else if (type === "pad4") key[name] = Buffer.alloc(4);
    else key[name] = slot;
  });
  return key;
}

function inputOf(c: Case, index: number): HistData {
  if (c.vals) return c.vals.map(count);
  if (c.slots) return new Map(c.slots.map(([s, v]) => [s, count(v)] as [number, Count]));
  const entries = c.entries!.map(([[b, s], v]) => [keyOf(c, b, s), count(v)] as const);
  // Exercise both accepted shapes: a Map with struct keys and a plain entry list.
  return index % 2 ? new Map(entries) : entries;
}

function optionsOf(c: Case): HistOptions {
  const o: HistOptions = { valType: c.valType ?? "value", stripLeadingZero: c.strip ?? false };
  if (c.sectionHeader !== undefined) o.sectionHeader = c.sectionHeader;
  if (c.printFn === "hex") o.sectionPrintFn = (b) => "0x" + (b as number).toString(16);
  if (c.printFn === "upper") o.sectionPrintFn = (b) => (b as string).toUpperCase();
  // Our struct decoding already yields strings for char arrays: BCC's bytes.decode() is a no-op here.
  if (c.bucketFn === "decode") o.bucketFn = (b) => b;
  if (c.bucketFn === "div10") o.bucketFn = (b) => Math.floor((b as number) / 10);
  if (c.sortFn === "sorted") o.bucketSortFn = (l) => [...l].sort((a, b) => (a as number) - (b as number));
  return o;
}

function render(c: Case, index: number): string {
  if (c.fn === "stars") {
    const [v, m, w] = c.stars!;
    return histStars(count(v), count(m), w);
  }
  const data = inputOf(c, index);
  const opts = optionsOf(c);
  if (c.fn === "json") return formatJsonHist(data, { ...opts, now: new Date(2024, 0, 2, 3, 4, 5) });
  return c.fn === "log2" ? formatLog2Hist(data, opts) : formatLinearHist(data, opts);
}

test("every case matches BCC's golden output byte for byte", () => {
  assert.ok(cases.length >= 40, `expected the full case list, got ${cases.length}`);
  cases.forEach((c, i) => {
    const golden = readFileSync(join(FIXTURES, `${c.name}.txt`), "utf8");
    assert.equal(render(c, i), golden, `case ${c.name}`);
  });
});

test("matches a fresh run of the installed BCC", (t) => {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import bcc"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    t.skip("/usr/bin/python3 cannot import bcc (python3-bpfcc not installed)");
    return;
  }
  const out = execFileSync("/usr/bin/python3", [join(FIXTURES, "gen.py"), "--json"], { encoding: "utf8" });
  const live: Record<string, string> = JSON.parse(out);
  assert.equal(Object.keys(live).length, cases.length);
  cases.forEach((c, i) => assert.equal(render(c, i), live[c.name], `case ${c.name}`));
});

test("log2 layout details", () => {
  // Slot 1 prints 0 -> 1; the header appears only when a slot above 0 is non-zero.
  assert.equal(
    formatLog2Hist([0, 1]),
    "     value               : count     distribution\n" +
      "         0 -> 1          : 1        |****************************************|\n",
  );
  assert.equal(formatLog2Hist([9]), "");
  // Slot 33 switches to the 20-digit bounds and the 20-character bar.
  const wide = formatLog2Hist(new Map([[33, 1]]), { valType: "ns" }).split("\n");
  assert.equal(wide[0], `${" ".repeat(15)}ns${" ".repeat(27)} : count     distribution`);
  assert.equal(wide[33], `${" ".repeat(10)}4294967296 -> 8589934591${" ".repeat(10)} : 1        |${"*".repeat(20)}|`);
  // number and bigint counts print the same.
  assert.equal(formatLog2Hist([0, 3, 1, 2]), formatLog2Hist([0n, 3n, 1n, 2n]));
});

test("bars: proportional, capped at the width, '+' when above the maximum", () => {
  assert.equal(histStars(1, 3, 40), "*".repeat(13));
  assert.equal(histStars(5, 4, 40), "*".repeat(39) + "+");
  assert.equal(histStars(5, 4, 1), "+");
  assert.equal(histStars(0, 4, 40), "");
  // 40*(2^62-1)/(2^63-1) is 20 - 2e-18 exactly, but Python's correctly rounded division gives 20.0.
  assert.equal(histStars((1n << 62n) - 1n, (1n << 63n) - 1n, 40).length, 20);
  assert.throws(() => histStars(1, 0, 40), { code: "BAD_ARGUMENT" });
});

test("linear layout starts at slot 0 and keeps gaps", () => {
  const text = formatLinearHist(new Map([[0, 6], [2, 1]]), { valType: "fd" });
  assert.equal(
    text,
    "     fd            : count     distribution\n" +
      "        0          : 6        |****************************************|\n" +
      "        1          : 0        |                                        |\n" +
      "        2          : 1        |******                                  |\n",
  );
  assert.equal(formatLinearHist(new Map([[0, 6], [2, 1]]), { valType: "fd", stripLeadingZero: true }), text);
});

test("section headers use Python repr of the bucket", () => {
  const one = (bucket: unknown): string => formatLog2Hist([[{ b: bucket, slot: 1 }, 1]]).split("\n")[1]!;
  assert.equal(one("foo"), "Bucket ptr = 'foo'");
  assert.equal(one(8), "Bucket ptr = 8");
  assert.equal(one(8n), "Bucket ptr = 8");
  assert.equal(one(Buffer.from("ab\x00")), "Bucket ptr = b'ab\\x00'");
  assert.equal(formatLog2Hist([[[8, 1], 1]], { sectionHeader: "disk" }).split("\n")[1], "disk = 8");
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr(`'"`), `'\\'"'`);
  assert.equal(pyRepr("tab\there\n\x7f é"), "'tab\\there\\n\\x7f é'");
  assert.equal(pyRepr("\u200b"), "'\\u200b'");
  assert.equal(pyRepr(1.5), "1.5");
  assert.equal(pyRepr(1e-5), "1e-05");
  assert.equal(pyRepr(1.5e-7), "1.5e-07");
  assert.equal(pyRepr(0.0001), "0.0001");
  assert.equal(pyRepr(-123.25), "-123.25");
  assert.equal(pyRepr(true), "True");
  assert.equal(pyRepr(null), "None");
  assert.equal(pyRepr([1, "a"]), "(1, 'a')");
});

test("equal buckets group together in first-seen order; __pad_1 is skipped", () => {
  const text = formatLog2Hist(
    [
      [{ dev: 2, __pad_1: Buffer.alloc(4), slot: 2 }, 1],
      [{ dev: 1n, __pad_1: Buffer.alloc(4), slot: 1 }, 4],
      [{ dev: 2n, __pad_1: Buffer.alloc(4), slot: 1 }, 3],
    ],
    { sectionHeader: "dev" },
  );
  const headers = text.split("\n").filter((l) => l.startsWith("dev = "));
  assert.deepEqual(headers, ["dev = 2", "dev = 1"]);
  assert.match(text, /dev = 2\n.*\n {9}0 -> 1 {10}: 3 /);
});

test("bad input is refused with a clear error", () => {
  assert.throws(() => formatLog2Hist(new Map([[65, 1]])), /log2 histogram slot 65 is outside 0\.\.64/);
  assert.throws(() => formatLinearHist(new Map([[1025, 1]])), /linear histogram slot 1025 is outside 0\.\.1024/);
  assert.throws(() => formatLinearHist([[{ a: 1, slot: 70 }, 1]]), { code: "BAD_ARGUMENT" });
  assert.throws(() => formatLog2Hist([1.5]), TsbccError);
  assert.throws(() => formatLog2Hist([[1, 1], [{ a: 1, b: 2 }, 1]] as never), TsbccError);
});

test("print wrappers write the same text to the given stream", () => {
  const chunks: string[] = [];
  printLog2Hist([0, 2, 1], { valType: "usecs", out: { write: (s: string) => chunks.push(s) } });
  assert.equal(chunks.join(""), formatLog2Hist([0, 2, 1], { valType: "usecs" }));
  assert.match(chunks.join(""), /^ {5}usecs {14} : count {5}distribution\n/);
});
