// ELF reader against hand-made inputs (no external tools): every field decoded, extended numbering,
// SHN_XINDEX, notes, stapsdt, program headers, and one test per documented kind of malformation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ElfError, ElfFile, EM_BPF, ET_DYN, ET_REL, PT_LOAD, PT_NOTE, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS,
  SHN_UNDEF, SHT_NOBITS, SHT_PROGBITS, SHT_REL, SHT_RELA, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC,
  STT_OBJECT, STT_SECTION, STV_HIDDEN, R_BPF_64_64, decodeStapsdt, parseNotes,
} from "../../src/elf/index.js";
import {
  SAMPLE_BUILD_ID, buildElf, concat, noteBytes, relocationBytes, sampleExecutable, sampleObject, stapsdtDesc,
  stringTable, symbolBytes, tempDir, text,
} from "../helpers/elf.js";

const PROG = "tracepoint/syscalls/sys_enter_getppid";

/** Copy of `bytes` with a little-endian value written at `at`. */
function patched(bytes: Uint8Array, at: number, value: number | bigint, width: 1 | 2 | 4 | 8): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (width === 1) v.setUint8(at, Number(value));
  else if (width === 2) v.setUint16(at, Number(value), true);
  else if (width === 4) v.setUint32(at, Number(value), true);
  else v.setBigUint64(at, BigInt(value), true);
  return out;
}

/** File offset of field `field` (byte offset inside the 64-byte header) of section header `index`. */
function shdrField(shoff: number, index: number, field: number): number {
  return shoff + index * 64 + field;
}

function throwsElf(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ElfError, `expected ElfError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "ElfError");
    assert.match(e.message, pattern);
    return true;
  });
}

test("relocatable object: header, sections and zero-copy data", () => {
  const built = sampleObject();
  const f = ElfFile.parse(built.bytes);
  assert.equal(f.header.type, ET_REL);
  assert.equal(f.header.machine, EM_BPF);
  assert.equal(f.header.shnum, 15);
  assert.equal(f.header.shstrndx, 14);
  assert.equal(f.programHeaders.length, 0);
  assert.deepEqual(f.sections.map((s) => s.index), [...Array(15).keys()]);
  const prog = f.section(PROG)!;
  assert.equal(prog.index, 2);
  assert.equal(prog.type, SHT_PROGBITS);
  assert.equal(prog.flags, SHF_ALLOC | SHF_EXECINSTR);
  assert.equal(prog.size, 32);
  assert.equal(prog.offset, built.offsets[2]);
  assert.equal(prog.addralign, 8);
  assert.equal(prog.data[0], 0x18);
  assert.equal(prog.data.buffer, built.bytes.buffer, "section data is a view, not a copy");
  assert.equal(prog.data.byteOffset, built.offsets[2]);
  assert.deepEqual([...f.section("license")!.data], [0x47, 0x50, 0x4c, 0]);
  const maps = f.section(".maps")!;
  assert.equal(maps.flags & SHF_WRITE, SHF_WRITE);
  assert.equal(maps.size, 32);
  const bss = f.section(".bss")!;
  assert.equal(bss.type, SHT_NOBITS);
  assert.equal(bss.size, 4096);
  assert.equal(bss.data.length, 0);
  assert.equal(f.section(".stapsdt.base")!.addr, 0x2000n);
  assert.equal(f.section("nope"), undefined);
});

test("relocatable object: symbols", () => {
  const f = ElfFile.parse(sampleObject().bytes);
  const syms = f.symbols();
  assert.equal(syms.length, 9);
  assert.deepEqual(syms[0], { index: 0, name: "", value: 0n, size: 0n, type: 0, bind: STB_LOCAL, visibility: 0, sectionIndex: SHN_UNDEF });
  assert.deepEqual(syms[1], { index: 1, name: "sample.c", value: 0n, size: 0n, type: STT_FILE, bind: STB_LOCAL, visibility: 0, sectionIndex: SHN_ABS });
  assert.equal(syms[2]!.type, STT_SECTION);
  assert.equal(syms[2]!.sectionIndex, 1);
  assert.deepEqual(syms[5], { index: 5, name: "counts", value: 0n, size: 32n, type: STT_OBJECT, bind: STB_GLOBAL, visibility: 0, sectionIndex: 3 });
  assert.deepEqual(syms[7], { index: 7, name: "helper", value: 0n, size: 16n, type: STT_FUNC, bind: STB_WEAK, visibility: STV_HIDDEN, sectionIndex: 1 });
  assert.equal(syms[8]!.name, "ext_fn");
  assert.equal(syms[8]!.sectionIndex, SHN_UNDEF);
  assert.equal(f.symbols(), syms, "symbol table is decoded once and cached");
  assert.deepEqual(f.dynamicSymbols(), []);
  assert.deepEqual(f.functionSymbols().map((s) => s.name), ["count_getppid", "helper"]);
});

test("relocatable object: REL and RELA sections and the per-section lookup", () => {
  const f = ElfFile.parse(sampleObject().bytes);
  const relSecs = f.relocationSectionsFor(2);
  assert.deepEqual(relSecs.map((s) => [s.index, s.name, s.type]), [[8, `.rel${PROG}`, SHT_REL]]);
  const [r] = f.relocationsFor(2);
  assert.equal(r!.offset, 0n);
  assert.equal(r!.type, R_BPF_64_64);
  assert.equal(r!.symbolIndex, 5);
  assert.equal(r!.symbol.name, "counts");
  assert.equal(r!.addend, 0n);
  assert.equal(f.section(PROG)!.data[Number(r!.offset)], 0x18, "relocation lands on the ld_imm64 instruction");
  const rela = f.relocationsFor(1);
  assert.equal(f.relocationSectionsFor(1)[0]!.type, SHT_RELA);
  assert.deepEqual(rela.map((x) => [x.offset, x.symbol.name, x.type, x.addend]), [[8n, "helper", 10, -8n], [0n, "ext_fn", 2, 0x1234n]]);
  assert.deepEqual(f.relocationsFor(3), []);
  assert.deepEqual(f.relocationsFor(999), []);
  throwsElf(() => f.relocations(999), /section index 999 is out of range/);
  throwsElf(() => f.relocations(2), /is not a relocation section/);
});

test("notes, build-id, debuglink and stapsdt of the relocatable sample", () => {
  const f = ElfFile.parse(sampleObject().bytes);
  const notes = f.notes();
  assert.deepEqual(notes.map((n) => [n.name, n.type, n.sectionIndex, n.desc.length]), [["stapsdt", 3, 10, 51], ["GNU", 3, 12, 10]]);
  assert.equal(f.buildId(), "deadbeef0123456789ab");
  assert.deepEqual(f.gnuDebuglink(), { file: "sample.debug", crc: 0xcafef00d });
  assert.deepEqual(f.notes(".missing"), []);
  assert.deepEqual(f.stapsdtNotes(), [
    { provider: "prov", name: "probe1", args: "-4@%edi 8@%rsi", pc: 0x1010n, base: 0x2000n, semaphore: 0x3000n, adjustedPc: 0x1010n },
  ]);
});

test("executable: program headers, vaddr <-> file offset, dynsym, PT_NOTE", () => {
  const built = sampleExecutable();
  const f = ElfFile.parse(built.bytes);
  assert.equal(f.header.type, ET_DYN);
  assert.equal(f.header.machine, 62);
  assert.equal(f.programHeaders.length, 4);
  const [text0, , bss, note] = f.programHeaders;
  assert.deepEqual(text0, { index: 0, type: PT_LOAD, flags: 5, offset: BigInt(built.offsets[1]!), vaddr: 0x401000n,
    paddr: 0x401000n, filesz: 64n, memsz: 64n, align: 0x1000n });
  assert.equal(bss!.memsz, 0x100n);
  assert.equal(note!.type, PT_NOTE);
  assert.equal(f.vaddrToFileOffset(0x401010n), built.offsets[1]! + 0x10);
  assert.equal(built.bytes[f.vaddrToFileOffset(0x401010)!], 0xcc);
  assert.equal(f.vaddrToFileOffset(0x40103fn), built.offsets[1]! + 0x3f);
  assert.equal(f.vaddrToFileOffset(0x401040n), undefined, "one past the segment");
  assert.equal(f.vaddrToFileOffset(0x403000n), undefined, "memory-only .bss");
  assert.equal(f.vaddrToFileOffset(0n), undefined);
  const greeting = f.symbols().find((s) => s.name === "greeting")!;
  const at = f.vaddrToFileOffset(greeting.value)!;
  assert.equal(new TextDecoder().decode(built.bytes.subarray(at, at + 5)), "hello");
  assert.equal(f.fileOffsetToVaddr(built.offsets[2]! + 1), 0x402001n);
  assert.equal(f.fileOffsetToVaddr(0), undefined);
  assert.deepEqual(f.dynamicSymbols().map((s) => [s.name, s.value, s.sectionIndex]), [["", 0n, 0], ["main", 0x401000n, 1], ["puts", 0n, 0]]);
  assert.deepEqual(f.symbols().map((s) => s.name), ["", "local_fn", "main", "greeting", "counter"]);
  assert.deepEqual(f.functionSymbols().map((s) => [s.name, s.value]), [["main", 0x401000n], ["local_fn", 0x401010n]]);
  const relocs = f.relocations(11);
  assert.deepEqual(relocs.map((r) => [r.offset, r.type, r.symbol.name, r.addend]), [[0x403008n, 8, "", 0x401000n], [0x403018n, 6, "puts", 0n]]);
  assert.deepEqual(f.stapsdtNotes().map((n) => [n.provider, n.name, n.args, n.pc, n.semaphore]),
    [["myapp", "start", "8@%rdi", 0x401010n, 0x403010n], ["myapp", "tick", "", 0x401020n, 0n]]);
  assert.equal(f.stapsdtBase(), 0x402100n);

  // Without a section table, notes come from PT_NOTE segments.
  const noSections = patched(patched(built.bytes, 40, 0n, 8), 60, 0, 2);
  const g = ElfFile.parse(noSections);
  assert.equal(g.sections.length, 0);
  assert.deepEqual(g.notes().map((n) => [n.name, n.type, n.sectionIndex]), [["GNU", 3, -1]]);
  assert.equal(g.buildId(), "deadbeef0123456789ab");
  assert.deepEqual(g.symbols(), []);
  assert.equal(g.vaddrToFileOffset(0x401010n), built.offsets[1]! + 0x10);
});

test("stapsdt prelink adjustment and decoder errors", () => {
  const note = parseNotes(noteBytes("stapsdt", 3, stapsdtDesc(0x1000n, 0x5000n, 0n, "p", "n", "")), 100, 4, 1, "test")[0]!;
  assert.equal(decodeStapsdt(note, 0x7000n).adjustedPc, 0x3000n);
  assert.equal(decodeStapsdt(note).adjustedPc, 0x1000n);
  assert.equal(note.offset, 100);
  const noArgs = concat(stapsdtDesc(1n, 0n, 0n, "p", "n", "").subarray(0, 24), text("p\0n\0"));
  const parsedNoArgs = parseNotes(noteBytes("stapsdt", 3, noArgs), 0, 4, 1, "t")[0]!;
  assert.equal(decodeStapsdt(parsedNoArgs).args, "");
  const short = parseNotes(noteBytes("stapsdt", 3, new Uint8Array(20)), 0, 4, 1, "t")[0]!;
  throwsElf(() => decodeStapsdt(short), /shorter than the 24-byte/);
  const unterminated = parseNotes(noteBytes("stapsdt", 3, concat(new Uint8Array(24), text("provider"))), 0, 4, 1, "t")[0]!;
  throwsElf(() => decodeStapsdt(unterminated), /provider: string at offset 24 is not NUL-terminated/);
  const missingName = parseNotes(noteBytes("stapsdt", 3, concat(new Uint8Array(24), text("p\0"))), 0, 4, 1, "t")[0]!;
  throwsElf(() => decodeStapsdt(missingName), /ends before the name string/);
  const gnu = parseNotes(noteBytes("GNU", 3, new Uint8Array(24)), 0, 4, 1, "t")[0]!;
  throwsElf(() => decodeStapsdt(gnu), /owner "GNU" type 3 is not a stapsdt probe/);
});

test("generic note parsing: alignment 4 and 8, empty name, missing final padding", () => {
  const four = concat(noteBytes("GNU", 1, Uint8Array.from([1, 2, 3])), noteBytes("", 7, new Uint8Array(0)), noteBytes("Linux", 9, Uint8Array.from([9])));
  const notes = parseNotes(four, 1000, 4, 5, "t");
  assert.deepEqual(notes.map((n) => [n.name, n.type, [...n.desc], n.offset, n.sectionIndex]),
    [["GNU", 1, [1, 2, 3], 1000, 5], ["", 7, [], 1020, 5], ["Linux", 9, [9], 1032, 5]]);
  // namesz 5 ("abcd\0") pads to 8 with align 4 but to 24 - 12 = 12 bytes with align 8.
  const eight = concat(noteBytes("abcd", 2, Uint8Array.from([7, 7, 7, 7, 7, 7, 7, 7]), 8), noteBytes("GNU", 5, new Uint8Array(8), 8));
  assert.deepEqual(parseNotes(eight, 0, 8, 1, "t").map((n) => [n.name, n.type, n.desc[0], n.offset]), [["abcd", 2, 7, 0], ["GNU", 5, 0, 32]]);
  const unpadded = noteBytes("GNU", 1, Uint8Array.from([1])).subarray(0, 17);
  assert.deepEqual([...parseNotes(unpadded, 0, 4, 1, "t")[0]!.desc], [1]);
  throwsElf(() => parseNotes(concat(four, new Uint8Array(8)), 1000, 4, 5, "section 5 (.note)"),
    /section 5 \(\.note\): 8 trailing bytes at file offset 1056 are too short/);
  const tooLong = noteBytes("GNU", 3, new Uint8Array(8));
  new DataView(tooLong.buffer).setUint32(4, 0xfffffff0, true);
  throwsElf(() => parseNotes(tooLong, 64, 4, 1, "section 1 (.note.x)"), /section 1 \(\.note\.x\): note at file offset 64 \(namesz 4, descsz 4294967280\) runs past the end/);
});

test("extended numbering: e_shnum 0 and e_shstrndx SHN_XINDEX", () => {
  const built = sampleObject();
  let b = patched(built.bytes, 60, 0, 2); // e_shnum = 0 -> count in section 0 sh_size
  b = patched(b, shdrField(built.shoff, 0, 32), 15n, 8);
  b = patched(b, 62, 0xffff, 2); // e_shstrndx = SHN_XINDEX -> index in section 0 sh_link
  b = patched(b, shdrField(built.shoff, 0, 40), 14, 4);
  const f = ElfFile.parse(b);
  assert.equal(f.header.shnum, 15);
  assert.equal(f.header.shstrndx, 14);
  assert.equal(f.section(PROG)!.index, 2);
  assert.equal(f.relocationsFor(2)[0]!.symbol.name, "counts");
  throwsElf(() => ElfFile.parse(patched(b, shdrField(built.shoff, 0, 32), 1n << 40n, 8)), /section header table \(1099511627776 x 64 bytes/);
});

test("SHN_XINDEX symbols resolve through SHT_SYMTAB_SHNDX", () => {
  const str = stringTable(["big"]);
  const symtab = symbolBytes([
    { name: 0, info: 0, shndx: 0, value: 0n, size: 0n },
    { name: str.offsets.get("big")!, info: 0x11, shndx: 0xffff, value: 4n, size: 4n },
  ]);
  const shndx = Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0]); // symbol 1 lives in section 1
  const sections = [
    { name: ".data", type: 1, flags: 3, data: new Uint8Array(8) },
    { name: ".symtab", type: 2, link: 3, info: 1, entsize: 24, data: symtab },
    { name: ".strtab", type: 3, data: str.data },
    { name: ".symtab_shndx", type: 18, link: 2, entsize: 4, data: shndx },
  ];
  const f = ElfFile.parse(buildElf({ sections }).bytes);
  assert.equal(f.symbols()[1]!.sectionIndex, 1);
  const without = ElfFile.parse(buildElf({ sections: sections.slice(0, 3) }).bytes);
  throwsElf(() => without.symbols(), /section 2 \(\.symtab\): a symbol uses SHN_XINDEX but no SHT_SYMTAB_SHNDX/);
});

test("static .rela.plt with sh_link 0 resolves only symbol 0", () => {
  const rela = relocationBytes([{ offset: 0x4000n, sym: 0, type: 37, addend: 0x1234n }], true);
  const ok = ElfFile.parse(buildElf({ type: 2, sections: [{ name: ".rela.plt", type: 4, entsize: 24, data: rela }] }).bytes);
  assert.deepEqual(ok.relocations(1).map((r) => [r.offset, r.symbol.name, r.type, r.addend]), [[0x4000n, "", 37, 0x1234n]]);
  const bad = relocationBytes([{ offset: 0n, sym: 3, type: 1 }], true);
  const f = ElfFile.parse(buildElf({ type: 2, sections: [{ name: ".rela.plt", type: 4, entsize: 24, data: bad }] }).bytes);
  throwsElf(() => f.relocations(1), /relocation 0 at file offset \d+ refers to symbol 3, but the symbol table has 1 entries/);
});

test("rejects non-ELF, ELF32, big-endian and bad versions", () => {
  const good = sampleObject().bytes;
  throwsElf(() => ElfFile.parse(new Uint8Array(0)), /not an ELF file: bad magic at offset 0/);
  throwsElf(() => ElfFile.parse(text("#!/bin/sh\necho hi\n")), /bad magic/);
  throwsElf(() => ElfFile.parse(patched(good, 4, 1, 1)), /ELF32 files are not supported/);
  throwsElf(() => ElfFile.parse(patched(good, 4, 3, 1)), /invalid EI_CLASS 3 at offset 4/);
  throwsElf(() => ElfFile.parse(patched(good, 5, 2, 1)), /big-endian ELF files are not supported/);
  throwsElf(() => ElfFile.parse(patched(good, 5, 0, 1)), /invalid EI_DATA 0 at offset 5/);
  throwsElf(() => ElfFile.parse(patched(good, 6, 2, 1)), /unsupported EI_VERSION 2 at offset 6/);
  throwsElf(() => ElfFile.parse(good.subarray(0, 40)), /ELF header: 64 bytes at offset 0 exceed the 40-byte input/);
});

test("malformed headers and tables raise ElfError naming the place", () => {
  const built = sampleObject();
  const b = built.bytes;
  const sh = (i: number, field: number) => shdrField(built.shoff, i, field);
  throwsElf(() => ElfFile.parse(patched(b, 40, BigInt(b.length - 10), 8)), /section header 0 \(e_shoff \d+\): 64 bytes at offset \d+ exceed/);
  throwsElf(() => ElfFile.parse(patched(b, 40, 1n << 62n, 8)), /e_shoff \(at offset 40\): value 0x4000000000000000 is too large/);
  throwsElf(() => ElfFile.parse(b.subarray(0, b.length - 1)), /section header table: 960 bytes at offset \d+ exceed/);
  throwsElf(() => ElfFile.parse(patched(b, 58, 32, 2)), /e_shentsize 32 at offset 58 is smaller than the 64-byte section header/);
  throwsElf(() => ElfFile.parse(patched(b, sh(3, 32), 1n << 20n, 8)), /section 3 data \(sh_offset \d+, sh_size 1048576\): 1048576 bytes at offset \d+ exceed/);
  throwsElf(() => ElfFile.parse(patched(b, sh(3, 24), BigInt(b.length), 8)), /section 3 data/);
  throwsElf(() => ElfFile.parse(patched(b, sh(3, 0), 0x7fff, 4)), /section name table \(section 14\): string offset 32767 is outside the 205-byte string table/);
  throwsElf(() => ElfFile.parse(patched(b, 62, 15, 2)), /e_shstrndx 15 is out of range \(15 sections\)/);
  throwsElf(() => ElfFile.parse(patched(b, 62, 3, 2)), /e_shstrndx 3 names a section of type 1, not SHT_STRTAB/);
  // An unterminated section name table: make its last byte (the final NUL) non-zero.
  const shstr = built.offsets[14]!;
  throwsElf(() => ElfFile.parse(patched(b, shstr + 204, 0x41, 1)), /section name table \(section 14\): string at offset \d+ is not NUL-terminated/);
  assert.equal(ElfFile.parse(patched(b, 62, 0, 2)).sections[2]!.name, "", "e_shstrndx 0 means unnamed sections");
  // Program headers.
  const exe = sampleExecutable().bytes;
  throwsElf(() => ElfFile.parse(patched(exe, 56, 0xfff0, 2)), /program header table \(65520 x 56 bytes at offset 64\) exceeds/);
  throwsElf(() => ElfFile.parse(patched(exe, 54, 40, 2)), /e_phentsize 40 at offset 54 is smaller than the 56-byte program header/);
  throwsElf(() => ElfFile.parse(patched(exe, 32, BigInt(exe.length - 100), 8)), /program header table: 224 bytes at offset \d+ exceed/);
  // A segment beyond EOF is tolerated (debug files) but never maps to an offset outside the file.
  const farSegment = ElfFile.parse(patched(exe, 64 + 8, 1n << 40n, 8));
  assert.equal(farSegment.vaddrToFileOffset(0x401000n), undefined);
});

test("malformed symbol tables, relocations and notes fail lazily with ElfError", () => {
  const built = sampleObject();
  const b = built.bytes;
  const sh = (i: number, field: number) => shdrField(built.shoff, i, field);
  const lazy = (bytes: Uint8Array, fn: (f: ElfFile) => unknown, pattern: RegExp) => {
    const f = ElfFile.parse(bytes); // the section table itself is fine
    throwsElf(() => fn(f), pattern);
  };
  lazy(patched(b, sh(6, 56), 0n, 8), (f) => f.symbols(), /section 6 \(\.symtab\): symbol table has sh_entsize 0/);
  lazy(patched(b, sh(6, 56), 16n, 8), (f) => f.symbols(), /sh_entsize 16 is smaller than 24/);
  lazy(patched(b, sh(6, 32), 200n, 8), (f) => f.symbols(), /symbol table size 200 is not a multiple of sh_entsize 24/);
  lazy(patched(b, sh(6, 40), 4, 4), (f) => f.symbols(), /section 6 \(\.symtab\): sh_link 4 does not name a string table section/);
  lazy(patched(b, sh(6, 40), 99, 4), (f) => f.symbols(), /sh_link 99 does not name a string table/);
  lazy(patched(b, built.offsets[6]! + 5 * 24, 0x10000, 4), (f) => f.symbols(), /section 6 \(\.symtab\) string table: string offset 65536 is outside the \d+-byte string table/);
  lazy(patched(b, built.offsets[8]! + 12, 9, 4), (f) => f.relocationsFor(2), /refers to symbol 9, but the symbol table has 9 entries/);
  lazy(patched(b, built.offsets[8]! + 12, 0xffffffff, 4), (f) => f.relocations(8), /refers to symbol 4294967295/);
  lazy(patched(b, sh(8, 40), 7, 4), (f) => f.relocationsFor(2), /section 8 .*sh_link 7 does not name a symbol table section/);
  lazy(patched(b, sh(8, 56), 0n, 8), (f) => f.relocationsFor(2), /relocation section has sh_entsize 0/);
  lazy(patched(b, sh(9, 56), 16n, 8), (f) => f.relocationsFor(1), /sh_entsize 16 is smaller than 24/);
  lazy(patched(b, built.offsets[10]! + 4, 0x1000, 4), (f) => f.stapsdtNotes(), /section 10 \(\.note\.stapsdt\): note at file offset \d+ \(namesz 8, descsz 4096\) runs past/);
  lazy(patched(b, built.offsets[10]!, 0xffffffff, 4), (f) => f.notes(), /namesz 4294967295/);
  lazy(patched(b, sh(13, 32), 14n, 8), (f) => f.gnuDebuglink(), /section 13 \(\.gnu_debuglink\): 14 bytes leave no room for the CRC at offset 16/);
  lazy(patched(b, sh(13, 32), 12n, 8), (f) => f.gnuDebuglink(), /section 13 \(\.gnu_debuglink\): debug file name is not NUL-terminated/);
});

test("overlapping string-table names are budgeted instead of exhausting memory", () => {
  const strtab = concat(new Uint8Array(1), new Uint8Array(200_000).fill(0x61), new Uint8Array(1));
  const symbols = symbolBytes(Array.from({ length: 200 }, (_, i) => ({ name: 1 + i, info: 0x11, shndx: 1, value: 0n, size: 0n })));
  const f = ElfFile.parse(buildElf({ sections: [
    { name: ".data", type: 1, data: new Uint8Array(8) },
    { name: ".symtab", type: 2, link: 3, entsize: 24, data: symbols },
    { name: ".strtab", type: 3, data: strtab },
  ] }).bytes);
  throwsElf(() => f.symbols(), /names overlap implausibly/);
  // The same long name referenced many times is fine (decoded once).
  const same = symbolBytes(Array.from({ length: 200 }, () => ({ name: 1, info: 0x11, shndx: 1, value: 0n, size: 0n })));
  const g = ElfFile.parse(buildElf({ sections: [
    { name: ".data", type: 1, data: new Uint8Array(8) },
    { name: ".symtab", type: 2, link: 3, entsize: 24, data: same },
    { name: ".strtab", type: 3, data: strtab },
  ] }).bytes);
  assert.equal(g.symbols()[199]!.name.length, 200_000);
});

test("ElfFile.open reads from disk; I/O errors are Node's own", () => {
  const dir = tempDir("elf-open");
  try {
    const path = join(dir, "sample.o");
    writeFileSync(path, sampleObject().bytes);
    const f = ElfFile.open(path);
    assert.equal(f.buildId(), Buffer.from(SAMPLE_BUILD_ID).toString("hex"));
    assert.equal(f.relocationsFor(2)[0]!.symbol.name, "counts");
    assert.throws(() => ElfFile.open(`${path}.missing`), { code: "ENOENT" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
