// Object BTF from clang: member offsets, codec round trips against bytes the C compiler laid out, .BTF.ext.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Btf, BtfError, BtfExt, codecFor, enumName, layoutOf, type StructType } from "../../src/btf/index.js";

const SOURCE = `typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned char u8;
enum color { RED = 1, GREEN = 2, BLUE = 40000 };
struct inner { unsigned short a; u64 b; };
struct padded { char c; int i; short s; u64 big; };
struct bits { unsigned int a:3, b:5; int c:7; unsigned long long d:40; _Bool e:1; enum color f:4; };
union un { u32 x; u8 bytes[4]; struct { unsigned short lo, hi; }; };
struct everything {
  u32 pid;
  char comm[16];
  struct inner in;
  struct inner many[3];
  union un u;
  enum color col;
  signed char sc;
  long long neg;
  u8 mac[6];
  float f;
  double d;
  void *ptr;
  _Bool flag;
  int matrix[2][3];
};
struct padded g_padded = { 'x', -42, 7, 0x1122334455667788ULL };
struct bits g_bits = { 5, 17, -33, 0xABCDEF1234ULL, 1, GREEN };
union un g_un = { .x = 0xdeadbeef };
struct everything g_every = { 1234, "hello", { 9, 99 }, { {1, 2}, {3, 4}, {5, 6} }, { .x = 0x01020304 }, BLUE, -3,
  -1234567890123LL, {1,2,3,4,5,6}, 1.5f, -2.25, (void *)0, 1, {{1,2,3},{4,5,-6}} };

__attribute__((section("tp/sched/sched_switch"), used))
int prog_one(void *ctx)
{
  g_padded.i += 1; /* LINE_A */
  return g_bits.a; /* LINE_B */
}

__attribute__((noinline)) static int helper(int x) { return x * 3 + g_un.x; } /* LINE_C */

__attribute__((section("kprobe/do_sys_open"), used))
int prog_two(void *ctx)
{
  int r = helper((int)g_every.pid); /* LINE_D */
  return r + g_every.col; /* LINE_E */
}
`;

// ---- a minimal ELF64 little-endian reader: sections by name and symbol values (kept local on purpose) ----
interface Elf { section(name: string): Uint8Array | undefined; symbol(name: string): number | undefined }
function readElf(buf: Uint8Array): Elf {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  assert.equal(dv.getUint32(0, false), 0x7f454c46, "ELF magic");
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true), shnum = dv.getUint16(0x3c, true), shstrndx = dv.getUint16(0x3e, true);
  const sh = (i: number) => {
    const b = shoff + i * shentsize;
    return { name: dv.getUint32(b, true), type: dv.getUint32(b + 4, true), off: Number(dv.getBigUint64(b + 0x18, true)),
      size: Number(dv.getBigUint64(b + 0x20, true)), link: dv.getUint32(b + 0x28, true) };
  };
  const cstr = (off: number) => { let e = off; while (buf[e] !== 0) e++; return Buffer.from(buf.subarray(off, e)).toString(); };
  const shstr = sh(shstrndx);
  const secs = Array.from({ length: shnum }, (_, i) => ({ ...sh(i), nameStr: cstr(shstr.off + sh(i).name) }));
  return {
    section: (name) => { const s = secs.find((x) => x.nameStr === name); return s && buf.subarray(s.off, s.off + s.size); },
    symbol: (name) => {
      const symtab = secs.find((x) => x.type === 2);
      if (!symtab) return undefined;
      const strtab = secs[symtab.link];
      for (let o = symtab.off; o < symtab.off + symtab.size; o += 24) {
        if (cstr(strtab.off + dv.getUint32(o, true)) === name) return Number(dv.getBigUint64(o + 8, true));
      }
      return undefined;
    },
  };
}

function haveClang(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v clang"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

let compiled: { elf: Elf; btf: Btf; ext: BtfExt } | undefined;
function compile(): { elf: Elf; btf: Btf; ext: BtfExt } {
  if (compiled) return compiled;
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-btf-"));
  try {
    writeFileSync(join(dir, "t.c"), SOURCE);
    execFileSync("clang", ["-target", "bpf", "-O2", "-g", "-c", "t.c", "-o", "t.o"], { cwd: dir, stdio: "pipe" });
    const elf = readElf(new Uint8Array(readFileSync(join(dir, "t.o"))));
    const btf = Btf.parse(elf.section(".BTF")!, { validate: true });
    const ext = BtfExt.parse(elf.section(".BTF.ext")!, btf);
    compiled = { elf, btf, ext };
    return compiled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CLANG = haveClang();
const NO_CLANG = "clang not on PATH (command -v clang failed)";

function globalBytes(elf: Elf, name: string, size: number): Uint8Array {
  const off = elf.symbol(name);
  assert.notEqual(off, undefined, `symbol ${name}`);
  return elf.section(".data")!.subarray(off!, off! + size);
}

test("object BTF: struct layout with padding, nested structs, unions, bitfields", (t) => {
  if (!CLANG) return t.skip(NO_CLANG);
  const { btf } = compile();
  const padded = btf.findByName("struct", "padded") as StructType;
  assert.deepEqual(padded.members.map((m) => [m.name, m.bitOffset / 8]), [["c", 0], ["i", 4], ["s", 8], ["big", 16]]);
  assert.deepEqual(layoutOf(btf, padded.id), { size: 24, align: 8 });
  const bits = btf.findByName("struct", "bits") as StructType;
  assert.deepEqual(bits.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
    [["a", 0, 3], ["b", 3, 5], ["c", 8, 7], ["d", 15, 40], ["e", 55, 1], ["f", 56, 4]]);
  const every = btf.findByName("struct", "everything") as StructType;
  assert.equal(every.size, 176);
  assert.equal(btf.typeToString(btf.findMember(every, "comm")!.type), "char[16]");
  assert.equal(btf.typeToString(btf.findMember(every, "many")!.type), "struct inner[3]");
  assert.equal(btf.typeToString(btf.findMember(every, "matrix")!.type), "int[2][3]");
  assert.equal(btf.typeToString(btf.findMember(every, "ptr")!.type), "void *");
  assert.equal(btf.findMember(every, "neg")!.bitOffset, 104 * 8);
  const un = btf.findByName("union", "un")!;
  assert.equal(btf.findMember(un, "hi")!.bitOffset, 16, "member of the anonymous struct inside the union");
  assert.deepEqual(btf.findByName("enum", "color")!.kind === "enum" && (btf.findByName("enum", "color") as { values: unknown }).values,
    [{ name: "RED", value: 1 }, { name: "GREEN", value: 2 }, { name: "BLUE", value: 40000 }]);
});

test("object BTF: decode globals from .data and re-encode to the same bytes", (t) => {
  if (!CLANG) return t.skip(NO_CLANG);
  const { btf, elf } = compile();
  const varType = (name: string) => (btf.findByName("var", name) as { type: number }).type;

  const padded = codecFor(btf, varType("g_padded"));
  const pBytes = globalBytes(elf, "g_padded", padded.size);
  assert.deepEqual(padded.decode(pBytes), { c: 120, i: -42, s: 7, big: 0x1122334455667788n });
  assert.deepEqual(padded.encode({ c: 120, i: -42, s: 7, big: 0x1122334455667788n }), new Uint8Array(pBytes));

  const bits = codecFor(btf, varType("g_bits"));
  const bBytes = globalBytes(elf, "g_bits", bits.size);
  const bv = bits.decode(bBytes);
  assert.deepEqual(bv, { a: 5, b: 17, c: -33, d: 0xabcdef1234n, e: true, f: 2 });
  assert.deepEqual(bits.encode({ a: 5, b: 17, c: -33, d: 0xabcdef1234n, e: true, f: "GREEN" }), new Uint8Array(bBytes));

  const un = codecFor(btf, varType("g_un"));
  const uBytes = globalBytes(elf, "g_un", un.size);
  assert.deepEqual(un.decode(uBytes), { x: 0xdeadbeef, bytes: [0xef, 0xbe, 0xad, 0xde], lo: 0xbeef, hi: 0xdead });
  assert.deepEqual(un.encode({ x: 0xdeadbeef }), new Uint8Array(uBytes));
  assert.deepEqual(un.encode({ lo: 0xbeef, hi: 0xdead }), new Uint8Array(uBytes));

  const every = codecFor(btf, varType("g_every"));
  const eBytes = globalBytes(elf, "g_every", every.size);
  const expected = {
    pid: 1234, comm: "hello", in: { a: 9, b: 99n }, many: [{ a: 1, b: 2n }, { a: 3, b: 4n }, { a: 5, b: 6n }],
    u: { x: 0x01020304, bytes: [4, 3, 2, 1], lo: 0x0304, hi: 0x0102 }, col: 40000, sc: -3, neg: -1234567890123n,
    mac: [1, 2, 3, 4, 5, 6], f: 1.5, d: -2.25, ptr: 0n, flag: true, matrix: [[1, 2, 3], [4, 5, -6]],
  };
  const ev = every.decode(eBytes) as typeof expected;
  assert.deepEqual(ev, expected);
  assert.equal(enumName(btf, btf.findMember(varType("g_every"), "col")!.type, ev.col), "BLUE");
  assert.deepEqual(every.encode(expected), new Uint8Array(eBytes), "JS object encodes to the bytes clang emitted");
  // Sparse input: unspecified fields (and padding) are zero.
  const sparse = every.decode(every.encode({ pid: 7, comm: "x", many: [undefined, { b: 5n }] })) as typeof expected;
  assert.equal(sparse.pid, 7);
  assert.equal(sparse.comm, "x");
  assert.deepEqual(sparse.many, [{ a: 0, b: 0n }, { a: 0, b: 5n }, { a: 0, b: 0n }]);
  assert.equal(sparse.flag, false);
});

test("object BTF: encoder errors name the field", (t) => {
  if (!CLANG) return t.skip(NO_CLANG);
  const { btf } = compile();
  const every = codecFor(btf, btf.findId("struct", "everything"));
  assert.throws(() => every.encode({ pid: -1 }), (e: Error) => e instanceof BtfError && /"pid".*out of range/.test(e.message));
  assert.throws(() => every.encode({ many: [{}, { a: 70000 }] }), (e: Error) => e instanceof BtfError && e.message.includes('"many[1].a"'));
  assert.throws(() => every.encode({ in: { zz: 1 } }), (e: Error) => e instanceof BtfError && e.message.includes('"in.zz"'));
  assert.throws(() => every.encode({ comm: "x".repeat(17) }), (e: Error) => e instanceof BtfError && e.message.includes('"comm"'));
  assert.throws(() => every.encode({ col: "PURPLE" }), (e: Error) => e instanceof BtfError && e.message.includes('"col"'));
  const bits = codecFor(btf, btf.findId("struct", "bits"));
  assert.throws(() => bits.encode({ c: 64 }), (e: Error) => e instanceof BtfError && /"c".*\[-64, 63\]/.test(e.message));
  assert.throws(() => bits.encode({ a: 8 }), (e: Error) => e instanceof BtfError && e.message.includes('"a"'));
});

function lineOf(marker: string): number {
  return SOURCE.split("\n").findIndex((l) => l.includes(marker)) + 1;
}

test(".BTF.ext: func_info names and line_info lines", (t) => {
  if (!CLANG) return t.skip(NO_CLANG);
  const { btf, ext } = compile();
  const names = (sec: string) => ext.funcInfo.get(sec)!.records.map((r) => [r.insnOff, btf.nameOf(r.typeId), btf.kindName(r.typeId)]);
  assert.deepEqual(names("tp/sched/sched_switch"), [[0, "prog_one", "func"]]);
  assert.deepEqual(names("kprobe/do_sys_open"), [[0, "prog_two", "func"]]);
  assert.deepEqual(names(".text"), [[0, "helper", "func"]]);
  assert.equal(ext.funcInfo.get(".text")!.recordSize, 8);
  assert.equal(ext.lineInfo.get(".text")!.recordSize, 16);

  const one = ext.lineInfo.get("tp/sched/sched_switch")!.records;
  assert.ok(one.length >= 2);
  const lines = new Set(one.map((r) => r.line));
  assert.ok(lines.has(lineOf("LINE_A")) && lines.has(lineOf("LINE_B")), `lines ${[...lines]}`);
  const first = ext.sourceLine("tp/sched/sched_switch", 0)!;
  assert.equal(first.line, lineOf("LINE_A"));
  assert.equal(first.text, SOURCE.split("\n")[lineOf("LINE_A") - 1]);
  assert.match(first.file, /t\.c$/);
  assert.ok(first.column > 0);
  const last = ext.sourceLine("tp/sched/sched_switch", one[one.length - 1].insnOff + 8)!;
  assert.equal(last.line, lineOf("LINE_B"));
  for (const r of ext.lineInfo.get("kprobe/do_sys_open")!.records) {
    assert.ok([lineOf("LINE_D"), lineOf("LINE_E")].includes(r.line), `line ${r.line}`);
    assert.equal(btf.str(r.lineOff), SOURCE.split("\n")[r.line - 1]);
  }
  assert.equal(ext.sourceLine(".text", 0)!.line, lineOf("LINE_C"));
});

test(".BTF.ext: records for BPF_PROG_LOAD are re-based to instruction indexes", (t) => {
  if (!CLANG) return t.skip(NO_CLANG);
  const { ext } = compile();
  const sec = "kprobe/do_sys_open";
  const recs = ext.lineInfo.get(sec)!.records;
  const load = ext.lineInfoForLoad(sec, { insnBase: 100 })!;
  assert.equal(load.recordSize, 16);
  assert.equal(load.count, recs.length);
  const dv = new DataView(load.bytes.buffer);
  recs.forEach((r, i) => {
    assert.equal(dv.getUint32(i * 16, true), r.insnOff / 8 + 100);
    assert.equal(dv.getUint32(i * 16 + 12, true), r.lineCol);
  });
  // A window of the section: only records inside it, offsets relative to its start.
  const from = recs[1].insnOff;
  const part = ext.lineInfoForLoad(sec, { from, insnBase: 3 })!;
  assert.equal(part.count, recs.length - 1);
  assert.equal(new DataView(part.bytes.buffer).getUint32(0, true), 3);
  const fi = ext.funcInfoForLoad(".text", { insnBase: 10 })!;
  assert.equal(fi.count, 1);
  assert.equal(new DataView(fi.bytes.buffer).getUint32(0, true), 10);
  assert.equal(ext.funcInfoForLoad("nope"), undefined);
});
