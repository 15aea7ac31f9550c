// Tier 1: BCC's text forms of values and programs: key_sprintf/leaf_sprintf/key_scanf/leaf_scanf and
// disassemble_func, checked on values and hand-assembled instructions with known text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scanfValue, sprintfValue } from "../../src/api/tables/sprintf.js";
import type { KeyValueCodec } from "../../src/api/tables/codec.js";
import { u32Codec, u64Codec } from "../../src/api/tables/codec.js";
import { disassemble } from "../../src/api/disassemble.js";
import { Asm, R0, R1, R2, R10 } from "../helpers/asm.js";

/** A codec whose decoded zero value is a struct { pid: u32; comm: char[4]; ts: u64[2] } (only its shape matters here). */
const structCodec: KeyValueCodec<{ pid: number; comm: string; ts: bigint[] }> = {
  size: 24,
  decode: () => ({ pid: 0, comm: "", ts: [0n, 0n] }),
  encode: () => {},
};

test("sprintf writes integers in hex, strings quoted, structs in braces and arrays in brackets", () => {
  assert.equal(sprintfValue(2), "0x2");
  assert.equal(sprintfValue(255n), "0xff");
  assert.equal(sprintfValue(-3), "-0x3");
  assert.equal(sprintfValue({ pid: 1, comm: "sh", ts: [1n, 16n] }), '{ 0x1 "sh" [ 0x1 0x10 ] }');
  assert.equal(sprintfValue(new Uint8Array([1, 255])), "[ 0x1 0xff ]");
  assert.equal(sprintfValue(true), "0x1");
});

test("scanf reads what sprintf writes back into the type's shape", () => {
  assert.equal(scanfValue(u32Codec(), "0x2a"), 42);
  assert.equal(scanfValue(u32Codec(), "7"), 7);
  assert.equal(scanfValue(u64Codec(), "0xffffffffffffffff"), 0xffffffffffffffffn);
  const v = { pid: 9, comm: 'a "q"', ts: [3n, 4n] };
  assert.deepEqual(scanfValue(structCodec, sprintfValue(v)), v);
  assert.throws(() => scanfValue(structCodec, "{ 0x1 }"), { code: "BAD_ARGUMENT" });
  assert.throws(() => scanfValue(u32Codec(), "zz"), { code: "BAD_ARGUMENT" });
  assert.throws(() => scanfValue(u32Codec(), "0x1 0x2"), { code: "BAD_ARGUMENT" });
});

test("disassemble writes the verifier log's notation, one line per instruction, 16-byte loads once", () => {
  const a = new Asm();
  a.mov(R2, R1).movImm(R0, 0).stx("DW", R10, -8, R2).ldx("W", R0, R1, 4).aluImm("ADD", R0, 16).jmpImm("JEQ", R0, 5, "out")
    .call(1).label("out").ldImm64(R1, 0x1122334455n).exit();
  const text = disassemble("prog", a.assemble());
  const lines = text.split("\n");
  assert.equal(lines[0], "Disassemble of BPF program prog:");
  assert.equal(lines[1], "   0: (bf) r2 = r1");
  assert.equal(lines[2], "   1: (b7) r0 = 0x0");
  assert.equal(lines[3], "   2: (7b) *(u64 *)(r10 -8) = r2");
  assert.equal(lines[4], "   3: (61) r0 = *(u32 *)(r1 +4)");
  assert.equal(lines[5], "   4: (07) r0 += 0x10");
  assert.equal(lines[6], "   5: (15) if r0 == 0x5 goto pc+1");
  assert.match(lines[7]!, /^ {3}6: \(85\) call (bpf_map_lookup_elem|helper)#1$/);
  assert.equal(lines[8], "   7: (18) r1 = 0x1122334455 ll");
  assert.equal(lines[9], "   9: (95) exit");
  assert.equal(lines.length, 10);
});
