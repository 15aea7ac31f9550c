// Value codec and type model on synthetic BTF (BtfBuilder): every mapping rule, errors, spelling, byte order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Btf, BtfError, codecFor, decodeValue, encodeValue, enumName, layoutOf } from "../../src/btf/index.js";
import { BtfBuilder } from "../../src/btf/builder.js";

function base() {
  const b = new BtfBuilder();
  const ids = {
    u8: b.int("unsigned char", 1), s8: b.int("signed char", 1, { signed: true }), char: b.int("char", 1, { signed: true }),
    u16: b.int("unsigned short", 2), s16: b.int("short", 2, { signed: true }),
    u32: b.int("unsigned int", 4), s32: b.int("int", 4, { signed: true }),
    u64: b.int("unsigned long long", 8), s64: b.int("long long", 8, { signed: true }),
    u128: b.int("unsigned __int128", 16), s128: b.int("__int128", 16, { signed: true }),
    bool: b.int("_Bool", 1, { bool: true }), f32: b.float("float", 4), f64: b.float("double", 8),
    cchar: b.int("char8", 1, { char: true }),
  };
  return { b, ids };
}

const isBtfError = (re: RegExp) => (e: unknown) => e instanceof BtfError && re.test((e as Error).message);

test("integers, bool, floats, pointers", () => {
  const { b, ids } = base();
  const ptr = b.ptr(0);
  const s = b.struct("scalars", 96, [
    { name: "u8", type: ids.u8, bitOffset: 0 }, { name: "s8", type: ids.s8, bitOffset: 8 },
    { name: "u16", type: ids.u16, bitOffset: 16 }, { name: "s16", type: ids.s16, bitOffset: 32 },
    { name: "u32", type: ids.u32, bitOffset: 64 }, { name: "s32", type: ids.s32, bitOffset: 96 },
    { name: "u64", type: ids.u64, bitOffset: 128 }, { name: "s64", type: ids.s64, bitOffset: 192 },
    { name: "flag", type: ids.bool, bitOffset: 256 }, { name: "f", type: ids.f32, bitOffset: 288 },
    { name: "d", type: ids.f64, bitOffset: 320 }, { name: "p", type: ptr, bitOffset: 384 },
    { name: "u128", type: ids.u128, bitOffset: 512 }, { name: "s128", type: ids.s128, bitOffset: 640 },
  ]);
  const btf = Btf.parse(b.build(), { validate: true });
  const c = codecFor(btf, s);
  const v = {
    u8: 255, s8: -128, u16: 65535, s16: -32768, u32: 4294967295, s32: -2147483648, u64: 18446744073709551615n,
    s64: -9223372036854775808n, flag: true, f: 0.5, d: Math.PI, p: 0xffff888012345678n,
    u128: (1n << 128n) - 1n, s128: -(1n << 127n),
  };
  const bytes = c.encode(v);
  const dv = new DataView(bytes.buffer);
  assert.equal(dv.getInt16(4, true), -32768);
  assert.equal(dv.getBigUint64(48, true), 0xffff888012345678n);
  assert.equal(bytes[80 + 15], 0x80, "s128 sign bit in the top byte (little-endian)");
  assert.deepEqual(c.decode(bytes), v);
  assert.deepEqual(c.decode(c.encode({})), {
    u8: 0, s8: 0, u16: 0, s16: 0, u32: 0, s32: 0, u64: 0n, s64: 0n, flag: false, f: 0, d: 0, p: 0n, u128: 0n, s128: 0n,
  });
  // Numbers are accepted for 64-bit fields when safe; bigints for small ones when in range.
  assert.equal((c.decode(c.encode({ u64: 5, u32: 7n })) as typeof v).u64, 5n);
  assert.throws(() => c.encode({ u8: 256 }), isBtfError(/"u8".*out of range \[0, 255\]/));
  assert.throws(() => c.encode({ s8: -129 }), isBtfError(/"s8"/));
  assert.throws(() => c.encode({ u32: 1.5 }), isBtfError(/"u32".*not an integer/));
  assert.throws(() => c.encode({ u64: -1n }), isBtfError(/"u64".*out of range/));
  assert.throws(() => c.encode({ u64: 2 ** 60 }), isBtfError(/"u64".*safe integer/));
  assert.throws(() => c.encode({ s32: "12" }), isBtfError(/"s32".*expected an integer/));
  assert.throws(() => c.encode({ flag: 2 }), isBtfError(/"flag".*boolean/));
  assert.throws(() => c.encode({ bogus: 1 }), isBtfError(/"bogus".*no such field in struct scalars/));
  // Top-level scalar codecs.
  const u64c = codecFor(btf, ids.u64);
  assert.equal(u64c.decode(u64c.encode(42)), 42n);
  assert.throws(() => u64c.encode(-1), isBtfError(/^value: /));
  assert.equal(decodeValue(btf, ids.s16, encodeValue(btf, ids.s16, -2)), -2);
});

test("char arrays are strings; byte arrays stay arrays", () => {
  const { b, ids } = base();
  const u8t = b.typedef("__u8", ids.u8);
  const s = b.struct("names", 16 * 4 + 6 + 4, [
    { name: "comm", type: b.array(ids.char, 16, ids.u32), bitOffset: 0 },
    { name: "uc", type: b.array(ids.u8, 16), bitOffset: 128 },
    { name: "sc", type: b.array(b.const(ids.s8), 16), bitOffset: 256 },
    { name: "cc", type: b.array(ids.cchar, 16), bitOffset: 384 },
    { name: "mac", type: b.array(u8t, 6), bitOffset: 512 },
    { name: "wide", type: b.array(ids.u16, 2), bitOffset: 560 },
  ]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, s);
  const full = "0123456789abcdef";
  const v = { comm: "bash", uc: full, sc: "héllo wörld", cc: "", mac: [1, 2, 3, 4, 5, 255], wide: [1, 65535] };
  const bytes = c.encode(v);
  assert.equal(bytes[4], 0, "NUL after the string");
  assert.deepEqual(c.decode(bytes), v, "16 chars without NUL decode in full; UTF-8 round-trips");
  // Bytes after the first NUL are ignored on decode.
  bytes.set([0x61, 0, 0x62], 0);
  assert.equal((c.decode(bytes) as typeof v).comm, "a");
  assert.equal((c.decode(c.encode({ comm: new Uint8Array([0x68, 0x69]) })) as typeof v).comm, "hi");
  assert.throws(() => c.encode({ comm: full + "x" }), isBtfError(/"comm".*17 bytes does not fit in char\[16\]/));
  assert.throws(() => c.encode({ mac: [1, 2, 3, 4, 5, 6, 7] }), isBtfError(/"mac".*7 elements/));
  assert.throws(() => c.encode({ mac: [1, 2, 256] }), isBtfError(/"mac\[2\]"/));
  assert.deepEqual((c.decode(c.encode({ mac: new Uint8Array([9, 8]) })) as typeof v).mac, [9, 8, 0, 0, 0, 0]);
  assert.deepEqual((c.decode(c.encode({ wide: new Uint16Array([7]) })) as typeof v).wide, [7, 0]);
});

test("struct padding, nesting, arrays of structs, raw bytes, encodeInto, decodeMany", () => {
  const { b, ids } = base();
  const inner = b.struct("inner", 16, [{ name: "a", type: ids.u16, bitOffset: 0 }, { name: "b", type: ids.u64, bitOffset: 64 }]);
  const ints = b.array(ids.s32, 20);
  const outer = b.struct("outer", 8 + 48 + 80 + 24, [
    { name: "c", type: ids.char, bitOffset: 0 },
    { name: "many", type: b.array(inner, 3), bitOffset: 64 },
    { name: "ints", type: ints, bitOffset: 56 * 8 },
    { name: "grid", type: b.array(b.array(ids.u32, 3), 2), bitOffset: 136 * 8 },
  ]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, outer);
  assert.deepEqual(layoutOf(btf, outer), { size: 160, align: 8 });
  const v = {
    c: -1, many: [{ a: 1, b: 2n }, { a: 3, b: 4n }, { a: 5, b: 6n }],
    ints: Array.from({ length: 20 }, (_, i) => i - 10), grid: [[1, 2, 3], [4, 5, 6]],
  };
  const bytes = c.encode(v);
  assert.deepEqual([...bytes.subarray(1, 8)], [0, 0, 0, 0, 0, 0, 0], "padding zeroed");
  const dirty = bytes.slice();
  dirty.fill(0xee, 1, 8); // padding is ignored on decode
  dirty.fill(0xee, 8 + 2, 8 + 8);
  assert.deepEqual(c.decode(dirty), v);
  assert.deepEqual(c.encode(dirty), dirty, "a Uint8Array of exactly the size is taken as raw bytes");
  assert.throws(() => codecFor(btf, inner).encode(new Uint8Array(15)), isBtfError(/exactly 16 bytes/));
  assert.deepEqual((c.decode(c.encode({ many: [undefined, dirty.subarray(8 + 16, 8 + 32)] })) as typeof v).many[1], { a: 3, b: 4n });
  assert.throws(() => c.encode({ many: [{}, {}, {}, {}] }), isBtfError(/"many".*4 elements/));
  assert.throws(() => c.encode({ many: [{}, { a: 1, z: 2 }] }), isBtfError(/"many\[1\]\.z"/));
  assert.throws(() => c.encode({ grid: [[1], [2, 3, 4, 5]] }), isBtfError(/"grid\[1\]"/));
  assert.throws(() => c.encode({ many: 5 }), isBtfError(/"many".*expected an array/));
  assert.throws(() => c.encode(7), isBtfError(/^value: expected an object/));
  // encodeInto zeroes its window and leaves the rest alone.
  const target = new Uint8Array(200).fill(0xaa);
  c.encodeInto({ c: 1 }, target, 20);
  assert.equal(target[19], 0xaa);
  assert.equal(target[20], 1);
  assert.equal(target[21], 0);
  assert.equal(target[180], 0xaa);
  assert.deepEqual((c.decode(target, 20) as typeof v).ints[19], 0);
  // Batch decode over a buffer with a stride.
  const batch = new Uint8Array(3 * 168);
  for (let i = 0; i < 3; i++) c.encodeInto({ c: i, ints: [i * 10] }, batch, i * 168);
  assert.deepEqual(c.decodeMany(batch, 3, 168).map((x) => [(x as typeof v).c, (x as typeof v).ints[0]]), [[0, 0], [1, 10], [2, 20]]);
  assert.throws(() => c.decode(new Uint8Array(159)), isBtfError(/need 160 bytes/));
  assert.throws(() => c.decode(new Uint8Array(200), 41), isBtfError(/need 160 bytes at offset 41/));
});

test("anonymous members merge, unions decode every member", () => {
  const { b, ids } = base();
  const anonS = b.struct("", 4, [{ name: "lo", type: ids.u16, bitOffset: 0 }, { name: "hi", type: ids.u16, bitOffset: 16 }]);
  const anonU = b.union("", 4, [{ name: "word", type: ids.u32, bitOffset: 0 }, { name: "", type: anonS, bitOffset: 0 }]);
  const s = b.struct("with_anon", 12, [
    { name: "tag", type: ids.u32, bitOffset: 0 },
    { name: "", type: anonU, bitOffset: 32 },
    { name: "", type: ids.u32, bitOffset: 64, bitfieldSize: 4 }, // unnamed bitfield: padding
    { name: "last", type: ids.u8, bitOffset: 72 },
  ]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, s);
  const bytes = c.encode({ tag: 1, word: 0x00020001, last: 9 });
  assert.deepEqual(c.decode(bytes), { tag: 1, word: 0x00020001, lo: 1, hi: 2, last: 9 });
  assert.deepEqual(c.encode({ tag: 1, lo: 1, hi: 2, last: 9 }), bytes);
  assert.deepEqual(c.encode(c.decode(bytes)), bytes, "a decoded union re-encodes to the same bytes");
  assert.equal(btf.findMember(s, "hi")!.bitOffset, 48);
  assert.equal(btf.typeToString(anonU), "union {...}");
});

test("bitfields: kind_flag, old INT encoding, signed, wide, straddling, enum and bool", () => {
  const { b, ids } = base();
  const color = b.enum("color", 4, [["RED", 1], ["GREEN", 2], ["BLUE", 3]]);
  const old3 = b.int("unsigned int", 4, { bits: 3 }); // pre-kind_flag encoding: width in the INT
  const s = b.struct("bf", 16, [
    { name: "a", type: ids.u32, bitOffset: 0, bitfieldSize: 3 },
    { name: "b", type: ids.s32, bitOffset: 3, bitfieldSize: 6 },
    { name: "wide", type: ids.u64, bitOffset: 9, bitfieldSize: 50 },
    { name: "on", type: ids.bool, bitOffset: 59, bitfieldSize: 1 },
    { name: "col", type: color, bitOffset: 60, bitfieldSize: 2 },
    { name: "odd", type: ids.u32, bitOffset: 67, bitfieldSize: 31 }, // spans 5 bytes (packed layout)
    { name: "neg", type: ids.s64, bitOffset: 98, bitfieldSize: 30 },
  ]);
  const o = b.struct("oldbf", 4, [{ name: "x", type: old3, bitOffset: 5 }, { name: "y", type: ids.u8, bitOffset: 8 }]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, s);
  const v = { a: 5, b: -20, wide: (1n << 50n) - 3n, on: true, col: 3, odd: 0x7ffffffe, neg: -(1n << 29n) };
  const bytes = c.encode(v);
  assert.deepEqual(c.decode(bytes), v);
  // Check the raw bit layout of the first word: a=5 in bits 0..2, b=-20 (6 bits: 101100) in bits 3..8.
  assert.equal(bytes[0] & 7, 5);
  assert.equal(((bytes[0] >> 3) | ((bytes[1] & 1) << 5)), 0b101100);
  assert.deepEqual(c.decode(c.encode({ col: "GREEN" })), { a: 0, b: 0, wide: 0n, on: false, col: 2, odd: 0, neg: 0n });
  assert.throws(() => c.encode({ b: 32 }), isBtfError(/"b".*\[-32, 31\]/));
  assert.throws(() => c.encode({ col: 4 }), isBtfError(/"col"/));
  assert.throws(() => c.encode({ col: "PURPLE" }), isBtfError(/"col".*not an enumerator/));
  const oc = codecFor(btf, o);
  assert.equal(btf.type(o).kind === "struct" && btf.type(o).kind, "struct");
  const om = btf.findMember(o, "x")!;
  assert.deepEqual([om.bitOffset, om.bitfieldSize], [5, 3]);
  assert.deepEqual([...oc.encode({ x: 7, y: 1 })], [7 << 5, 1, 0, 0]);
  assert.deepEqual(oc.decode(new Uint8Array([0xff, 2, 0, 0])), { x: 7, y: 2 });
});

test("enums: numbers, names, signedness, enum64", () => {
  const { b, ids } = base();
  const e = b.enum("state", 4, [["A", 0], ["B", 5], ["ALSO_B", 5]]);
  const se = b.enum("sign", 4, [["NEG", -5], ["POS", 7]], true);
  const e64 = b.enum64("big", 8, [["HUGE", 0xffffffff00000000n], ["ONE", 1n]]);
  const small = b.enum("small", 1, [["X", 200]]);
  const s = b.struct("es", 24, [
    { name: "e", type: e, bitOffset: 0 }, { name: "se", type: se, bitOffset: 32 },
    { name: "e64", type: e64, bitOffset: 64 }, { name: "small", type: small, bitOffset: 128 },
    { name: "t", type: b.typedef("state_t", e), bitOffset: 160 },
  ]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, s);
  const v = c.decode(c.encode({ e: "B", se: "NEG", e64: "HUGE", small: 200, t: 0 }));
  assert.deepEqual(v, { e: 5, se: -5, e64: 0xffffffff00000000n, small: 200, t: 0 });
  assert.equal(enumName(btf, e, 5), "B");
  assert.equal(enumName(btf, se, -5), "NEG");
  assert.equal(enumName(btf, e64, 0xffffffff00000000n), "HUGE");
  assert.equal(enumName(btf, e, 9), undefined);
  assert.equal(btf.enumValue("HUGE")!.value, 0xffffffff00000000n);
  assert.equal(btf.enumValue("NEG")!.value, -5);
  assert.throws(() => enumName(btf, ids.u32, 1), BtfError);
  assert.equal(btf.typeToString(e64), "enum big");
});

test("member names are data, never code", () => {
  const { b, ids } = base();
  const evil = '"]; throw new Error("pwned"); //';
  const s = b.struct("names", 20, [
    { name: "__proto__", type: ids.u32, bitOffset: 0 }, { name: "constructor", type: ids.u32, bitOffset: 32 },
    { name: evil, type: ids.u32, bitOffset: 64 }, { name: "back\\slash\nnl", type: ids.u32, bitOffset: 96 },
    { name: "toString", type: ids.u32, bitOffset: 128 },
  ]);
  const btf = Btf.parse(b.build());
  const c = codecFor(btf, s);
  const v = c.decode(c.encode({}));
  assert.deepEqual(Object.keys(v as object), ["__proto__", "constructor", evil, "back\\slash\nnl", "toString"]);
  assert.equal(Object.getPrototypeOf(v), Object.prototype, "__proto__ is an own data property");
  const input: Record<string, number> = { constructor: 2, [evil]: 3, toString: 5 };
  Object.defineProperty(input, "__proto__", { value: 1, enumerable: true });
  const back = c.decode(c.encode(input)) as Record<string, number>;
  assert.deepEqual([back["__proto__"], back.constructor, back[evil], back.toString], [1, 2, 3, 5]);
});

test("malformed type graphs raise BtfError from the codec and helpers", () => {
  const { b, ids } = base();
  const self = b.struct("self", 8, [{ name: "me", type: 0, bitOffset: 0 }]); // patched below to point at itself
  const loopA = b.typedef("A", 0);
  const loopB = b.typedef("B", loopA);
  const bad = b.struct("bad", 4, [{ name: "x", type: ids.u64, bitOffset: 0 }]); // field larger than struct
  const odd = b.struct("odd", 8, [{ name: "x", type: ids.u32, bitOffset: 3 }]); // misaligned non-bitfield
  const fwd = b.fwd("opaque");
  const holder = b.struct("holder", 8, [{ name: "f", type: fwd, bitOffset: 0 }]);
  const bytes = b.build();
  // Point self.me at self and A at B, which the builder cannot express directly.
  const dv = new DataView(bytes.buffer);
  const patchType = (id: number, wordAfterHeader: number, value: number) => {
    let p = 24;
    for (let cur = 1; cur < id; cur++) {
      const info = dv.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
      p += 12 + ([0, 4, 0, 12, 12 * vlen, 12 * vlen, 8 * vlen, 0, 0, 0, 0, 0, 0, 8 * vlen, 4, 12 * vlen, 0, 4, 0, 12 * vlen][kind] ?? 0);
    }
    dv.setUint32(p + wordAfterHeader * 4, value, true);
  };
  patchType(self, 4, self); // member 0's type word
  patchType(loopA, 2, loopB);
  const btf = Btf.parse(bytes, { validate: true });
  assert.throws(() => codecFor(btf, self), isBtfError(/recursive|exceeds/));
  assert.throws(() => btf.resolve(loopA), isBtfError(/loops/));
  assert.throws(() => btf.sizeof(loopB), isBtfError(/loops/));
  assert.throws(() => codecFor(btf, loopA), BtfError);
  assert.throws(() => codecFor(btf, bad), isBtfError(/exceeds/));
  assert.throws(() => codecFor(btf, odd), isBtfError(/not byte-aligned/));
  assert.throws(() => codecFor(btf, holder), isBtfError(/has no size/));
  assert.throws(() => btf.type(9999), isBtfError(/no type id 9999/));
  assert.throws(() => btf.sizeof(0), isBtfError(/no size/));
});

test("typeToString spells C declarators", () => {
  const { b, ids } = base();
  const cchar = b.const(ids.char);
  const pc = b.ptr(cchar);
  const fn = b.funcProto(ids.s32, [{ name: "fd", type: ids.s32 }, { name: "buf", type: pc }]);
  const vfn = b.funcProto(0, [{ name: "fmt", type: pc }], true);
  const cases: [number, string][] = [
    [pc, "const char *"],
    [b.const(b.ptr(ids.char)), "char *const"],
    [b.ptr(b.const(b.ptr(ids.char))), "char *const *"],
    [b.ptr(b.array(ids.s32, 4)), "int (*)[4]"],
    [b.array(b.ptr(ids.char), 4), "char *[4]"],
    [b.ptr(fn), "int (*)(int fd, const char *buf)"],
    [b.array(b.ptr(fn), 2), "int (*[2])(int fd, const char *buf)"],
    [b.ptr(b.ptr(vfn)), "void (**)(const char *fmt, ...)"],
    [b.volatile(ids.s32), "volatile int"],
    [b.ptr(b.fwd("sock")), "struct sock *"],
    [b.ptr(b.fwd("u", true)), "union u *"],
    [b.ptr(b.typeTag("user", ids.char)), "char *"],
    [b.restrict(b.ptr(ids.s32)), "int *restrict"],
    [b.funcProto(ids.s32, []), "int (void)"],
  ];
  const f = b.func("my_func", fn, "static");
  const gv = b.var("my_var", b.array(ids.char, 8), "global");
  const btf = Btf.parse(b.build(), { validate: true });
  for (const [id, want] of cases) assert.equal(btf.typeToString(id), want);
  assert.equal(btf.typeToString(f), "int my_func(int fd, const char *buf)");
  assert.equal(btf.typeToString(gv), "char my_var[8]");
  assert.equal(btf.typeToString(ids.u32, "x"), "unsigned int x");
  assert.equal(btf.typeToString(0), "void");
  const ft = btf.type(f);
  assert.ok(ft.kind === "func" && ft.linkage === "static");
  const vt = btf.type(gv);
  assert.ok(vt.kind === "var" && vt.linkage === "global");
});

test("alignment, datasec decoding, decl tags, odd floats", () => {
  const { b, ids } = base();
  const packed = b.struct("packed", 5, [{ name: "c", type: ids.u8, bitOffset: 0 }, { name: "i", type: ids.u32, bitOffset: 8 }]);
  const normal = b.struct("normal", 8, [{ name: "c", type: ids.u8, bitOffset: 0 }, { name: "i", type: ids.u32, bitOffset: 32 }]);
  const ld = b.float("long double", 16);
  const v1 = b.var("counter", ids.u64), v2 = b.var("name", b.array(ids.char, 8));
  const sec = b.datasec(".data", 24, [{ type: v1, offset: 0, size: 8 }, { type: v2, offset: 16, size: 8 }]);
  const tag = b.declTag("bpf_kfunc", packed, 1);
  const btf = Btf.parse(b.build(), { validate: true });
  assert.deepEqual(layoutOf(btf, packed), { size: 5, align: 1 });
  assert.deepEqual(layoutOf(btf, normal), { size: 8, align: 4 });
  assert.equal(btf.alignof(ids.u128), 16);
  const dc = codecFor(btf, sec);
  assert.deepEqual(dc.decode(dc.encode({ counter: 3n, name: "abc" })), { counter: 3n, name: "abc" });
  const t = btf.type(tag);
  assert.ok(t.kind === "decl_tag" && t.componentIdx === 1 && t.name === "bpf_kfunc");
  const raw = new Uint8Array(16).map((_, i) => i);
  assert.deepEqual(codecFor(btf, ld).decode(raw), raw);
  assert.deepEqual(codecFor(btf, ld).encode(raw), raw);
});

/** Re-encode little-endian builder output as big-endian (all header and type-section fields are u32). */
function toBigEndian(le: Uint8Array): Uint8Array {
  const out = le.slice();
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength), dst = new DataView(out.buffer);
  dst.setUint16(0, 0xeb9f, false);
  for (let o = 4; o < 24; o += 4) dst.setUint32(o, src.getUint32(o, true), false);
  const typeEnd = 24 + src.getUint32(12, true);
  for (let o = 24; o < typeEnd; o += 4) dst.setUint32(o, src.getUint32(o, true), false);
  return out;
}

test("big-endian BTF parses to the same model; scalars decode big-endian", () => {
  const { b, ids } = base();
  const s = b.struct("pair", 16, [{ name: "x", type: ids.u32, bitOffset: 0 }, { name: "y", type: ids.s64, bitOffset: 64 }]);
  b.enum("e", 4, [["E1", 77]]);
  const le = b.build();
  const lbtf = Btf.parse(le), bbtf = Btf.parse(toBigEndian(le), { validate: true });
  assert.equal(bbtf.littleEndian, false);
  for (const id of lbtf.ids()) assert.deepEqual(bbtf.type(id), lbtf.type(id));
  assert.equal(bbtf.enumValue("E1")!.value, 77);
  const c = codecFor(bbtf, s);
  const bytes = c.encode({ x: 0x01020304, y: -2n });
  assert.deepEqual([...bytes.subarray(0, 4)], [1, 2, 3, 4]);
  assert.deepEqual(c.decode(bytes), { x: 0x01020304, y: -2n });
  assert.throws(() => Btf.parse(toBigEndian(new BtfBuilder(lbtf).build()), { base: lbtf }), isBtfError(/byte order/));
});
