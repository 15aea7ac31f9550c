// BTF -> C printer on hand-built BTF. Every printed header is compiled with clang (when installed) and the
// layout clang computes is compared with the BTF, member by member, bitfields included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Btf } from "../../src/btf/btf.js";
import { BtfBuilder } from "../../src/btf/builder.js";
import { printCHeader, printCHeaderWithNames } from "../../src/btf/c-printer.js";

const HAVE_CLANG = spawnSync("clang", ["--version"]).status === 0;

/** Builder with the usual base types. */
function base() {
  const b = new BtfBuilder();
  const int = b.int("int", 4, { signed: true });
  const uint = b.int("unsigned int", 4);
  const char = b.int("char", 1, { signed: true, char: true });
  const u8 = b.int("unsigned char", 1);
  const u16 = b.int("short unsigned int", 2);
  const u64 = b.int("long long unsigned int", 8);
  const long = b.int("long int", 8, { signed: true });
  return { b, int, uint, char, u8, u16, u64, long };
}

const M = (name: string, type: number, byteOff: number, bitfieldSize?: number, bitOff?: number) =>
  ({ name, type, bitOffset: bitOff ?? byteOff * 8, bitfieldSize });

/** clang's layout of every record: tag -> member -> bit offset (direct members only). */
function clangLayouts(stderr: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const block of stderr.split("*** Dumping AST Record Layout").slice(1)) {
    const lines = block.split("\n").filter((l) => l.includes("|"));
    const head = /^\s*0 \| (?:struct|union) (\w+)$/.exec(lines[0] ?? "");
    if (!head) continue;
    const members = new Map<string, number>();
    for (const l of lines.slice(1)) {
      const m = /^\s*(\d+)(?::(\d+)-\d+)? \| {3}(?! ).*?\b(\w+)$/.exec(l);
      if (m) members.set(m[3]!, Number(m[1]) * 8 + Number(m[2] ?? 0));
    }
    out.set(head[1]!, members);
  }
  return out;
}

/** Prints, compiles with sizeof/offset checks for every named struct/union, compares clang's layouts. */
function check(t: { skip(msg: string): void }, bytes: Uint8Array, extra = ""): string {
  const btf = Btf.parse(bytes);
  const { text, names } = printCHeaderWithNames(btf);
  if (!HAVE_CLANG) {
    t.skip("clang not installed: printed only");
    return text;
  }
  const asserts: string[] = [];
  const expected = new Map<string, Map<string, number>>();
  for (const id of btf.ids()) {
    const ty = btf.type(id);
    if ((ty.kind !== "struct" && ty.kind !== "union") || !ty.name) continue;
    const tag = names.get(id)!;
    asserts.push(`_Static_assert(sizeof(${ty.kind} ${tag}) == ${ty.size}, "size of ${tag}");`);
    const members = new Map<string, number>();
    for (const m of ty.members) if (m.name) members.set(m.name.replace(/\W/g, "_"), m.bitOffset);
    expected.set(tag, members);
  }
  for (const id of btf.ids("enum")) {
    const ty = btf.type(id);
    if (ty.kind === "enum" && ty.name) asserts.push(`_Static_assert(sizeof(enum ${names.get(id)}) == ${ty.size}, "size of enum ${ty.name}");`);
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-cprint-"));
  try {
    writeFileSync(join(dir, "x.h"), text);
    writeFileSync(join(dir, "x.c"), `#include "x.h"\n${asserts.join("\n")}\n${extra}\n`);
    const r = spawnSync("clang", ["-target", "bpf", "-fsyntax-only", "-Werror", "-Xclang", "-fdump-record-layouts", join(dir, "x.c")], { encoding: "utf8", maxBuffer: 64 << 20 });
    const errors = r.stderr.split("\n").filter((l) => /error|warning/.test(l));
    assert.deepEqual(errors, [], `${text}\n${errors.join("\n")}`);
    const got = clangLayouts(r.stdout + r.stderr);
    for (const [tag, members] of expected) {
      const have = got.get(tag);
      assert.ok(have, `clang did not lay out ${tag}`);
      for (const [name, off] of members) assert.equal(have.get(name), off, `${tag}.${name} at bit ${have.get(name)}, BTF says ${off}\n${text}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return text;
}

test("a type used by value is defined first; pointer-only uses get a forward declaration", (t) => {
  // Ids are fixed by insertion order, so types can refer to ids added later, as in real BTF.
  const bb = new BtfBuilder();
  const i32 = bb.int("int", 4, { signed: true }); // 1
  const outerId = 2, innerPtrId = 3, innerId = 4, nodePtrId = 5, nodeId = 6;
  bb.struct("outer", 24, [M("in", innerId, 0), M("ip", innerPtrId, 8), M("head", nodePtrId, 16)]); // 2
  bb.ptr(innerId); // 3
  bb.struct("inner", 8, [M("a", i32, 0), M("b", i32, 4)]); // 4
  bb.ptr(nodeId); // 5
  bb.struct("node", 16, [M("next", nodePtrId, 0), M("owner", 7, 8)]); // 6
  bb.ptr(outerId); // 7
  const text = check(t, bb.build());
  assert.ok(text.indexOf("struct inner {") < text.indexOf("struct outer {"), "inner before outer");
  assert.ok(text.indexOf("struct node;") < text.indexOf("struct outer {"), "node forward-declared before outer");
  assert.ok(text.indexOf("struct outer {") < text.indexOf("struct node {"));
  assert.match(text, /^#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n/);
  assert.match(text, /#endif \/\* __VMLINUX_H__ \*\/\n$/);
});

test("typedefs: before use, through pointer cycles, of anonymous structs and of function types", (t) => {
  const b = new BtfBuilder();
  const int = b.int("int", 4, { signed: true }); // 1
  const listT = b.typedef("list_t", 3); // 2: typedef struct list *list_t
  b.ptr(4); // 3
  const list = b.struct("list", 16, [M("next", listT, 0), M("val", int, 8)]); // 4
  const anon = b.struct("", 8, [M("x", int, 0), M("y", int, 4)]);
  const pairT = b.typedef("pair_t", anon);
  const proto = b.funcProto(int, [{ name: "a", type: b.ptr(list) }, { name: "", type: int }], true);
  const fnT = b.typedef("handler_fn", proto);
  b.struct("user", 24, [M("p", pairT, 0), M("h", b.ptr(fnT), 8), M("l", listT, 16)]);
  const text = check(t, b.build(), "static int call(struct user *u) { return u->h(u->l, 1, 2) + u->p.x; }");
  assert.match(text, /typedef struct list \*list_t;/);
  assert.match(text, /typedef struct \{\n\tint x;\n\tint y;\n\} pair_t;/);
  assert.match(text, /typedef int handler_fn\(struct list \*, int, \.\.\.\);/);
  assert.ok(text.indexOf("typedef struct list *list_t;") < text.indexOf("struct list {"));
});

test("anonymous struct and union members are printed inline", (t) => {
  const { b, int, u64, char } = base();
  const inner = b.struct("", 8, [M("lo", int, 0), M("hi", int, 4)]);
  const un = b.union("", 8, [M("whole", u64, 0), M("", inner, 0)]);
  const arr = b.array(char, 16);
  b.struct("holder", 32, [M("", un, 0), M("name", arr, 8), M("named_anon", b.struct("", 8, [M("q", u64, 0)]), 24)]);
  const text = check(t, b.build(), "static long use(struct holder *h) { return h->lo + h->hi + h->whole + h->named_anon.q + h->name[1]; }");
  assert.match(text, /\tunion \{\n\t\tlong long unsigned int whole;\n\t\tstruct \{\n\t\t\tint lo;\n\t\t\tint hi;\n\t\t\};\n\t\};/);
});

test("bitfields, holes and tail padding reproduce the BTF offsets", (t) => {
  const { b, uint, u8, u16, u64 } = base();
  b.struct("bits", 32, [
    M("a", uint, 0, 3, 0), M("b", uint, 0, 5, 3), M("c", uint, 0, 20, 12), // shares the first int
    M("d", u8, 4), M("e", u16, 0, 9, 48), // bitfield after a hole of one byte
    M("f", u64, 16), // hole 8..16
    M("g", uint, 0, 1, 24 * 8 + 5), // bitfield not at the start of its unit
  ]);
  b.struct("aligned_member", 128, [M("x", uint, 0), M("y", u64, 64)]); // ____cacheline_aligned member
  const text = check(t, b.build());
  assert.match(text, /unsigned int a: 3;/);
  assert.match(text, /long: 64;/);
  assert.doesNotMatch(text, /packed/);
});

test("packed structs, packed members and aligned unions", (t) => {
  const { b, uint, u8, u16, u64 } = base();
  const p = b.struct("packed_hdr", 7, [M("kind", u8, 0), M("len", uint, 1), M("port", u16, 5)]);
  b.struct("contains_packed", 12, [M("c", u8, 0), M("h", p, 1), M("tail", uint, 8)]);
  b.struct("short_tail", 12, [M("a", u64, 0), M("b", uint, 8)]); // size 12 < 16: packed(, aligned(4))
  b.union("wide_union", 64, [M("a", u64, 0), M("b", uint, 0)]); // union ____cacheline_aligned
  b.union("odd_union", 12, [M("a", u64, 0), M("b", u8, 0)]);
  const text = check(t, b.build());
  assert.match(text, /struct packed_hdr \{[^}]*\} __attribute__\(\(packed\)\);/);
  assert.match(text, /union wide_union \{[^}]*\} __attribute__\(\(aligned\(64\)\)\);/);
  assert.doesNotMatch(/struct contains_packed \{[^}]*\}(.*);/.exec(text)![1]!, /packed/);
});

test("enums: sizes, signedness, 64-bit values, anonymous and clashing enumerators", (t) => {
  const { b, int } = base();
  const small = b.enum("small_kind", 1, [["SK_A", 0], ["SK_B", 2]]);
  b.enum("signed_e", 4, [["NEG", -5 >>> 0], ["POS", 7]], true);
  b.enum64("big_e", 8, [["BIG_MAX", 0xffffffffffffffffn], ["BIG_ONE", 1n]]);
  b.enum64("wide_small", 8, [["WS_A", 1n]]); // 8 bytes although the values fit in 32 bits
  b.enum64("neg64", 8, [["N64_MIN", -(1n << 63n)], ["N64_ONE", 1n]], true);
  const anon = b.enum("", 4, [["ANON_X", 1], ["ANON_Y", 2]]);
  b.enum("again", 4, [["ANON_X", 5], ["SK_A", 6]]); // same enumerator names as earlier enums
  b.struct("uses", 12, [M("k", small, 0), M("a", anon, 4), M("i", int, 8)]);
  const text = check(t, b.build(),
    "_Static_assert(ANON_X == 1 && ANON_X___2 == 5 && SK_A___2 == 6 && NEG == -5 && BIG_MAX == 0xffffffffffffffffULL, \"values\");\n" +
    "_Static_assert(N64_MIN < 0 && sizeof(enum wide_small) == 8 && sizeof(enum big_e) == 8 && sizeof(enum neg64) == 8, \"enum64\");\n" +
    "_Static_assert(sizeof(((struct uses *)0)->a) == 4, \"anon enum member\");");
  assert.match(text, /enum small_kind \{\n\tSK_A = 0,\n\tSK_B = 2,\n\} __attribute__\(\(mode\(QI\)\)\);/);
  assert.match(text, /\tBIG_MAX = 18446744073709551615ULL,/);
  assert.match(text, /\tN64_MIN = \(-9223372036854775807LL - 1\),/);
  assert.match(text, /enum \{\n\tANON_X = 1,\n\tANON_Y = 2,\n\};/);
  assert.match(text, /\tunsigned int a;/);
});

test("name clashes: repeated struct names, struct/enum tags, typedef named like a struct, bad identifiers", (t) => {
  const { b, int, u64 } = base();
  const first = b.struct("dup", 4, [M("x", int, 0)]);
  const second = b.struct("dup", 8, [M("y", u64, 0)]);
  b.enum("shared_tag", 4, [["ST_A", 1]]);
  const st = b.struct("shared_tag", 4, [M("z", int, 0)]);
  b.typedef("dup", first); // typedef and tag namespaces are separate in C
  const weird = b.struct("has.dot", 4, [M("we-ird", int, 0)]);
  b.struct("user", 32, [M("a", first, 0), M("b", second, 8), M("c", st, 16), M("d", weird, 20), M("e", b.typedef("ssizetype_t", b.int("ssizetype", 8, { signed: true })), 24)]);
  const text = check(t, b.build(), "static int f(dup *d, struct dup___2 *e) { return d->x + e->y; }");
  assert.match(text, /struct dup \{\n\tint x;\n\};/);
  assert.match(text, /struct dup___2 \{\n\tlong long unsigned int y;\n\};/);
  assert.match(text, /struct shared_tag___2 \{/);
  assert.match(text, /typedef struct dup dup;/);
  assert.match(text, /struct has_dot \{\n\tint we_ird;\n\};/);
  assert.match(text, /typedef long ssizetype_t;/);
});

test("declarators: function pointers, arrays of them, pointers to arrays, qualifiers", (t) => {
  const { b, int, char, u64 } = base();
  const cchar = b.const(char);
  const proto = b.funcProto(b.ptr(cchar), [{ name: "", type: int }]);
  const fp = b.ptr(proto);
  const voidProto = b.funcProto(0, []);
  const carr = b.const(b.array(cchar, 8)); // const array of const char
  b.struct("decls", 96, [
    M("fn", fp, 0), // const char *(*fn)(int)
    M("table", b.array(fp, 4), 8), // const char *(*table[4])(int)
    M("rows", b.ptr(b.array(int, 3)), 40), // int (*rows)[3]
    M("cp", b.const(b.ptr(char)), 48), // char *const cp
    M("vcp", b.volatile(b.const(b.ptr(char))), 56), // char *const volatile vcp
    M("v", b.ptr(b.volatile(u64)), 64),
    M("noargs", b.ptr(voidProto), 72),
    M("name", carr, 80),
    M("tagged", b.ptr(b.typeTag("user", char)), 88),
  ]);
  b.func("some_function", proto); // functions and their tags are not printed
  b.declTag("tag", 1);
  const text = check(t, b.build(), "static int f(struct decls *d) { return *d->fn(1) + *d->table[2](3) + (*d->rows)[1] + *d->cp + d->name[0]; }");
  assert.match(text, /\tconst char \*\(\*fn\)\(int\);/);
  assert.match(text, /\tconst char \*\(\*table\[4\]\)\(int\);/);
  assert.match(text, /\tint \(\*rows\)\[3\];/);
  assert.match(text, /\tchar \*const cp;/);
  assert.match(text, /\tchar \*const volatile vcp;/);
  assert.match(text, /\tvolatile long long unsigned int \*v;/);
  assert.match(text, /\tvoid \(\*noargs\)\(void\);/);
  assert.match(text, /\tconst char name\[8\];/);
  assert.match(text, /\tchar \*tagged;/);
  assert.doesNotMatch(text, /some_function/);
});

test("forward-only types, 128-bit integers, floats, the kernel's va_list", (t) => {
  const { b, u64 } = base();
  const fwd = b.fwd("opaque");
  const fwdU = b.fwd("opaque_union", true);
  const i128 = b.int("__int128 unsigned", 16);
  const dbl = b.float("double", 8);
  const vatag = b.struct("__va_list_tag", 24, [M("gp_offset", b.int("unsigned int", 4), 0), M("overflow_arg_area", b.ptr(0), 8), M("reg_save_area", b.ptr(0), 16)]);
  const builtin = b.typedef("__builtin_va_list", b.array(vatag, 1));
  const valist = b.typedef("va_list", builtin);
  b.struct("misc", 80, [M("o", b.ptr(fwd), 0), M("u", b.ptr(fwdU), 8), M("wide", i128, 16), M("d", dbl, 32), M("args", valist, 40), M("n", u64, 64)]);
  const text = check(t, b.build());
  assert.match(text, /struct opaque;/);
  assert.match(text, /union opaque_union;/);
  assert.match(text, /\tunsigned __int128 wide;/);
  assert.match(text, /typedef struct __va_list_tag __tsbcc__builtin_va_list\[1\];/);
  assert.match(text, /typedef __tsbcc__builtin_va_list va_list;/);
});

test("guard option and determinism", () => {
  const { b, int } = base();
  b.struct("s", 4, [M("x", int, 0)]);
  const bytes = b.build();
  const text = printCHeader(Btf.parse(bytes), { guard: "" });
  assert.ok(!text.includes("#ifndef"));
  assert.equal(printCHeader(Btf.parse(bytes)), printCHeader(Btf.parse(bytes)));
});
