// ELF reader against a real `clang -target bpf -O2 -g -c` object compiled at test time.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ElfFile, EM_BPF, ET_REL, R_BPF_64_64, SHF_ALLOC, SHF_EXECINSTR, SHF_INFO_LINK, SHF_WRITE, SHT_PROGBITS,
  SHT_REL, SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STT_FUNC, STT_OBJECT,
} from "../../src/elf/index.js";
import { findTool, tempDir } from "../helpers/elf.js";

const PROG = "tracepoint/syscalls/sys_enter_getppid";

// Written for this test: a BTF-style map definition (pointer-to-array members encode numbers) and one
// tracepoint program that looks up and updates the map through helper ids 1 and 2.
const SOURCE = `
#define SECTION(name) __attribute__((section(name), used))
struct {
  int (*type)[1];
  int (*max_entries)[128];
  unsigned int *key;
  unsigned long long *value;
} getppid_calls SECTION(".maps");

static void *(*lookup_elem)(void *map, const void *key) = (void *)1;
static long (*update_elem)(void *map, const void *key, const void *value, unsigned long long flags) = (void *)2;

SECTION("${PROG}")
int count_getppid(void *ctx) {
  unsigned int key = 0;
  unsigned long long one = 1;
  unsigned long long *seen = lookup_elem(&getppid_calls, &key);
  if (seen)
    __sync_fetch_and_add(seen, 1);
  else
    update_elem(&getppid_calls, &key, &one, 0);
  return 0;
}

char LICENSE[] SECTION("license") = "GPL";
`;

function compileBpf(): ElfFile | undefined {
  if (!findTool("clang")) return undefined;
  const dir = tempDir("elf-bpf");
  try {
    writeFileSync(join(dir, "prog.c"), SOURCE);
    execFileSync("clang", ["-target", "bpf", "-O2", "-g", "-c", "prog.c", "-o", "prog.o"], { cwd: dir, stdio: "pipe" });
    return ElfFile.open(join(dir, "prog.o")); // reads the whole file, so the directory can go
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const compiled = (() => {
  try {
    return { file: compileBpf() };
  } catch (e) {
    return { error: e as Error };
  }
})();

test("clang BPF object: header and sections", (t) => {
  if (compiled.error) throw compiled.error;
  const f = compiled.file;
  if (!f) return t.skip("clang not installed");
  assert.equal(f.header.type, ET_REL);
  assert.equal(f.header.machine, EM_BPF);
  assert.equal(f.programHeaders.length, 0);
  const prog = f.section(PROG)!;
  assert.equal(prog.type, SHT_PROGBITS);
  assert.equal(prog.flags, SHF_ALLOC | SHF_EXECINSTR);
  assert.ok(prog.size >= 8 * 8 && prog.size % 8 === 0, `program size ${prog.size}`);
  assert.equal(prog.data[prog.size - 8], 0x95, "the program ends with BPF_EXIT");
  const maps = f.section(".maps")!;
  assert.equal(maps.flags, SHF_ALLOC | SHF_WRITE);
  assert.equal(maps.size, 32, "four pointer-sized members");
  const license = f.section("license")!;
  assert.equal(new TextDecoder().decode(license.data), "GPL\0");
  for (const name of [".BTF", ".BTF.ext", ".symtab", ".strtab"]) assert.ok(f.section(name), `missing ${name}`);
  assert.equal(f.section(".symtab")!.type, SHT_SYMTAB);
  assert.equal(f.sections[f.header.shstrndx]!.type, SHT_STRTAB);
  // .BTF starts with its magic 0xeb9f (little-endian).
  assert.deepEqual([...f.section(".BTF")!.data.subarray(0, 2)], [0x9f, 0xeb]);
});

test("clang BPF object: symbols", (t) => {
  if (compiled.error) throw compiled.error;
  const f = compiled.file;
  if (!f) return t.skip("clang not installed");
  const prog = f.section(PROG)!;
  const fn = f.symbols().find((s) => s.name === "count_getppid")!;
  assert.equal(fn.type, STT_FUNC);
  assert.equal(fn.bind, STB_GLOBAL);
  assert.equal(fn.sectionIndex, prog.index);
  assert.equal(fn.value, 0n);
  assert.equal(fn.size, BigInt(prog.size));
  const map = f.symbols().find((s) => s.name === "getppid_calls")!;
  assert.equal(map.type, STT_OBJECT);
  assert.equal(map.sectionIndex, f.section(".maps")!.index);
  assert.equal(map.size, 32n);
  const license = f.symbols().find((s) => s.name === "LICENSE")!;
  assert.equal(license.sectionIndex, f.section("license")!.index);
  assert.equal(license.size, 4n);
  assert.deepEqual(f.dynamicSymbols(), []);
});

test("clang BPF object: relocations against the map", (t) => {
  if (compiled.error) throw compiled.error;
  const f = compiled.file;
  if (!f) return t.skip("clang not installed");
  const prog = f.section(PROG)!;
  const [relSec, ...others] = f.relocationSectionsFor(prog.index);
  assert.equal(others.length, 0);
  assert.equal(relSec!.name, `.rel${PROG}`);
  assert.equal(relSec!.type, SHT_REL);
  assert.equal(relSec!.flags & SHF_INFO_LINK, SHF_INFO_LINK);
  assert.equal(relSec!.link, f.section(".symtab")!.index);
  const relocs = f.relocationsFor(prog.index);
  assert.equal(relocs.length, 2, "one ld_imm64 per map reference (lookup and update)");
  for (const r of relocs) {
    assert.equal(r.symbol.name, "getppid_calls");
    assert.equal(r.type, R_BPF_64_64);
    assert.equal(r.addend, 0n);
    const insn = Number(r.offset);
    assert.equal(insn % 8, 0);
    assert.equal(prog.data[insn], 0x18, "BPF_LD | BPF_IMM | BPF_DW");
  }
  // .BTF.ext refers back to the program section through its own relocations.
  assert.ok(f.relocationsFor(f.section(".BTF.ext")!.index).length > 0);
});
