// Malformed input: truncations and seeded byte flips must give a parse or a BtfError, never another exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { Btf, BtfError, BtfExt, btfIdentity, codecFor, parseHeader } from "../../src/btf/index.js";
import { BtfBuilder } from "../../src/btf/builder.js";

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A BTF blob using every kind, plus a matching .BTF.ext with all three record blocks. */
function richBlobs(): { btf: Uint8Array; ext: Uint8Array } {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4), s8 = b.int("char", 1, { signed: true }), u64 = b.int("u64", 8);
  const bool = b.int("_Bool", 1, { bool: true });
  const e = b.enum("e", 4, [["E_A", 1], ["E_B", -2]], true);
  const e64 = b.enum64("e64", 8, [["E_BIG", 1n << 40n]]);
  const inner = b.union("", 8, [{ name: "x", type: u64, bitOffset: 0 }, { name: "y", type: u32, bitOffset: 0 }]);
  const s = b.struct("s", 48, [
    { name: "a", type: u32, bitOffset: 0, bitfieldSize: 5 }, { name: "b", type: e, bitOffset: 5, bitfieldSize: 3 },
    { name: "ok", type: bool, bitOffset: 8, bitfieldSize: 1 },
    { name: "comm", type: b.array(s8, 16, u32), bitOffset: 32 }, { name: "", type: inner, bitOffset: 192 },
    { name: "p", type: b.ptr(b.const(b.volatile(b.restrict(b.typeTag("user", s8))))), bitOffset: 256 },
    { name: "big", type: e64, bitOffset: 320 },
  ]);
  b.typedef("s_t", s);
  b.fwd("opaque");
  b.float("double", 8);
  const proto = b.funcProto(u32, [{ name: "ctx", type: b.ptr(0) }, { name: "n", type: u64 }], true);
  const fn = b.func("prog", proto);
  const v = b.var("g", s);
  b.datasec(".data", 48, [{ type: v, offset: 0, size: 48 }]);
  b.declTag("tag", fn, -1);
  const sec = b.str("kprobe/x"), file = b.str("/src/x.c"), line = b.str("  return 0;"), access = b.str("0:1");
  const btf = b.build();
  // .BTF.ext: header (32 bytes), func_info, line_info, core_relo blocks.
  const words: number[] = [];
  const func = [8, sec, 2, 0, fn, 16, fn];
  const lines = [16, sec, 2, 0, file, line, (3 << 10) | 5, 8, file, line, (4 << 10) | 1];
  const core = [16, sec, 1, 8, s, access, 0];
  words.push(...func, ...lines, ...core);
  const ext = new Uint8Array(32 + words.length * 4);
  const dv = new DataView(ext.buffer);
  dv.setUint16(0, 0xeb9f, true);
  ext[2] = 1;
  dv.setUint32(4, 32, true);
  dv.setUint32(8, 0, true); dv.setUint32(12, func.length * 4, true);
  dv.setUint32(16, func.length * 4, true); dv.setUint32(20, lines.length * 4, true);
  dv.setUint32(24, (func.length + lines.length) * 4, true); dv.setUint32(28, core.length * 4, true);
  words.forEach((w, i) => dv.setUint32(32 + i * 4, w, true));
  return { btf, ext };
}

function expectBtfError(e: unknown, what: string): void {
  if (!(e instanceof BtfError)) {
    assert.fail(`${what}: expected BtfError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? e}`);
  }
}

/** Try everything a caller might do; only BtfError may escape any step. */
function exercise(bytes: Uint8Array, extBytes: Uint8Array | undefined, what: string, validate: boolean): "parsed" | "rejected" {
  let btf: Btf;
  try {
    btfIdentity(bytes);
    btf = Btf.parse(bytes, { validate });
  } catch (e) {
    expectBtfError(e, `${what}: parse`);
    return "rejected";
  }
  const attempt = (label: string, f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expectBtfError(e, `${what}: ${label}`);
    }
  };
  for (let id = 0; id < btf.length; id++) {
    attempt(`type(${id})`, () => btf.type(id));
    attempt(`nameOf(${id})`, () => btf.nameOf(id));
    attempt(`typeToString(${id})`, () => btf.typeToString(id));
    attempt(`sizeof(${id})`, () => btf.sizeof(id));
    attempt(`alignof(${id})`, () => btf.alignof(id));
    attempt(`resolve(${id})`, () => btf.resolve(id));
    attempt(`codec(${id})`, () => {
      const c = codecFor(btf, id);
      if (c.size <= 1 << 16) {
        const zero = new Uint8Array(c.size);
        c.encode(c.decode(zero));
        c.decode(new Uint8Array(c.size).fill(0xa5));
      }
    });
  }
  attempt("findByName", () => btf.findByName("struct", "s"));
  attempt("enumValue", () => btf.enumValue("E_BIG"));
  if (extBytes) {
    attempt("ext", () => {
      const ext = BtfExt.parse(extBytes, btf);
      for (const sec of ext.sectionNames()) {
        attempt("sourceLine", () => ext.sourceLine(sec, 8));
        attempt("funcInfoForLoad", () => ext.funcInfoForLoad(sec, { insnBase: 1 }));
        attempt("lineInfoForLoad", () => ext.lineInfoForLoad(sec, { from: 8 }));
      }
    });
  }
  return "parsed";
}

test("the rich fixture itself is valid", () => {
  const { btf, ext } = richBlobs();
  const parsed = Btf.parse(btf, { validate: true });
  const x = BtfExt.parse(ext, parsed);
  assert.equal(x.funcInfo.get("kprobe/x")!.records.length, 2);
  assert.equal(x.sourceLine("kprobe/x", 8)!.line, 4);
  assert.equal(x.sourceLine("kprobe/x", 0)!.text, "  return 0;");
  assert.equal(x.coreRelos.get("kprobe/x")!.records[0].accessStr, "0:1");
  assert.equal(x.coreRelos.get("kprobe/x")!.records[0].kindName, "field_byte_offset");
  assert.equal(exercise(btf, ext, "pristine", true), "parsed");
});

test("every truncation of BTF and BTF.ext is a parse or a BtfError", () => {
  const { btf, ext } = richBlobs();
  let rejected = 0;
  for (let n = 0; n < btf.length; n++) if (exercise(btf.subarray(0, n), undefined, `btf[0, ${n})`, n % 2 === 0) === "rejected") rejected++;
  assert.ok(rejected > btf.length / 2, `${rejected} truncations rejected`);
  const parsed = Btf.parse(btf);
  for (let n = 0; n < ext.length; n++) {
    try {
      BtfExt.parse(ext.subarray(0, n), parsed);
    } catch (e) {
      expectBtfError(e, `ext[0, ${n})`);
    }
  }
});

test("seeded byte flips in BTF and BTF.ext are a parse or a BtfError", () => {
  const { btf, ext } = richBlobs();
  const rand = rng(0x5eed);
  let parsed = 0, rejected = 0;
  for (let i = 0; i < 1500; i++) {
    const m = btf.slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) {
      const at = Math.floor(rand() * m.length);
      // Mix single-bit flips with whole random bytes (large counts, sizes and ids).
      m[at] = rand() < 0.5 ? m[at] ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
    }
    const x = ext.slice();
    const at = Math.floor(rand() * x.length);
    x[at] = Math.floor(rand() * 256);
    if (exercise(m, x, `flip #${i}`, i % 3 === 0) === "parsed") parsed++;
    else rejected++;
  }
  assert.ok(parsed > 100 && rejected > 100, `parsed ${parsed}, rejected ${rejected}`);
});

test("header checks", () => {
  const { btf } = richBlobs();
  assert.throws(() => parseHeader(new Uint8Array([0x9f])), BtfError);
  assert.throws(() => Btf.parse(new Uint8Array([1, 2, 3, 4])), /bad magic 0x0102/);
  const v2 = btf.slice();
  v2[2] = 2;
  assert.throws(() => Btf.parse(v2), /unsupported version 2/);
  const longType = btf.slice();
  new DataView(longType.buffer).setUint32(12, 1 << 30, true);
  assert.throws(() => Btf.parse(longType), /type section .* exceeds/);
  const noNul = btf.slice();
  noNul[noNul.length - 1] = 0x41;
  assert.throws(() => Btf.parse(noNul), /does not end with NUL/);
  assert.throws(() => Btf.parse("nope" as unknown as Uint8Array), BtfError);
});

test("vmlinux: truncations and flips are a parse or a BtfError", (t) => {
  const path = "/sys/kernel/btf/vmlinux";
  if (!existsSync(path)) return t.skip(`${path} missing`);
  const bytes = new Uint8Array(readFileSync(path));
  const rand = rng(42);
  for (let i = 0; i < 40; i++) {
    const n = Math.floor(rand() * bytes.length);
    assert.throws(() => Btf.parse(bytes.subarray(0, n)), BtfError, `truncated to ${n}`);
  }
  for (let i = 0; i < 12; i++) {
    const m = bytes.slice();
    for (let k = 0; k < 64; k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
    let btf: Btf;
    try {
      btf = Btf.parse(m);
    } catch (e) {
      expectBtfError(e, `vmlinux flip #${i}`);
      continue;
    }
    for (const [kind, name] of [["struct", "task_struct"], ["struct", "sk_buff"], ["typedef", "u64"]] as const) {
      try {
        const id = btf.findId(kind, name);
        if (id) {
          btf.typeToString(id);
          codecFor(btf, id).decode(new Uint8Array(btf.sizeof(id)));
        }
        btf.enumValue("TASK_COMM_LEN");
      } catch (e) {
        expectBtfError(e, `vmlinux flip #${i} ${name}`);
      }
    }
  }
});

test("type DAGs that would take exponential work are cut off with BtfError", () => {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4);
  let s = b.struct("leaf", 4, [{ name: "", type: u32, bitOffset: 0, bitfieldSize: 3 }]);
  let proto = b.funcProto(u32, []);
  for (let i = 0; i < 60; i++) {
    // Two anonymous members sharing one type: 2^60 paths through the anonymous-member tree.
    s = b.struct(`l${i}`, 4, [{ name: "", type: s, bitOffset: 0 }, { name: "", type: s, bitOffset: 0 }]);
    const p = b.ptr(proto);
    proto = b.funcProto(u32, [{ name: "a", type: p }, { name: "b", type: p }]);
  }
  const btf = Btf.parse(b.build(), { validate: true });
  const t0 = performance.now();
  assert.equal(btf.alignof(s), 4);
  assert.throws(() => btf.findMember(s, "missing"), BtfError);
  assert.throws(() => codecFor(btf, s), BtfError);
  assert.throws(() => btf.typeToString(proto), BtfError);
  assert.ok(performance.now() - t0 < 5000, "bounded time");
});
