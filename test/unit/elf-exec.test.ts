// ELF reader against real x86-64 executables: a gcc-built program with hand-written USDT notes (compiled at
// test time), its separate debug file, and system binaries (/bin/ls, the running node, libstdc++).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ElfFile, EM_X86_64, ET_DYN, ET_EXEC, PF_R, PF_X, PT_INTERP, PT_LOAD, SHF_ALLOC, SHT_NOBITS, STT_FUNC, STT_OBJECT,
} from "../../src/elf/index.js";
import { exerciseAll, findTool, tempDir } from "../helpers/elf.js";

const BUILD_ID = "0123456789abcdeffedcba9876543210";

// Written for this test. The probe notes follow the SystemTap SDT note format (owner "stapsdt", type 3,
// descriptor = pc, .stapsdt.base address, semaphore address, then provider, name and argument strings);
// the program does not need <sys/sdt.h>.
const SOURCE = String.raw`
#include <stdio.h>
unsigned short tsbcc_demo_ready_semaphore __attribute__((section(".probes"), used)) = 0;
const char marker[] = "TSBCC-MARKER";
int data_word = 0x12345678;
long bss_word;

__asm__(".pushsection .stapsdt.base,\"a\",@progbits\n"
        ".globl _.stapsdt.base\n"
        ".hidden _.stapsdt.base\n"
        "_.stapsdt.base: .space 1\n"
        ".popsection\n");

#define NOTE_START(provider, name)                                \
  "990: nop\n"                                                    \
  ".pushsection .note.stapsdt,\"\",\"note\"\n"                    \
  ".balign 4\n"                                                   \
  ".4byte 992f-991f, 994f-993f, 3\n"                              \
  "991: .asciz \"stapsdt\"\n"                                     \
  "992: .balign 4\n"                                              \
  "993: .8byte 990b, _.stapsdt.base, "
#define NOTE_END(provider, name, args)                            \
  "\n.asciz \"" provider "\"\n.asciz \"" name "\"\n"              \
  ".asciz \"" args "\"\n994: .balign 4\n.popsection\n"

__attribute__((noinline)) void fire(long value) {
  __asm__ __volatile__(NOTE_START("tsbcc_demo", "ready") "tsbcc_demo_ready_semaphore"
                       NOTE_END("tsbcc_demo", "ready", "8@%0") :: "D"(value));
}

int main(int argc, char **argv) {
  __asm__ __volatile__(NOTE_START("tsbcc_demo", "tick") "0" NOTE_END("tsbcc_demo", "tick", ""));
  fire(argc);
  bss_word = data_word;
  puts(marker);
  return 0;
}
`;

interface Built { pie: ElfFile; noPie: ElfFile; dir: string }

function build(): Built | undefined {
  if (!findTool("gcc")) return undefined;
  const dir = tempDir("elf-exec");
  try {
    writeFileSync(join(dir, "demo.c"), SOURCE);
    const cc = (out: string, extra: string[]) => execFileSync("gcc", ["-O1", "-g", "-o", out, "demo.c",
      `-Wl,--build-id=0x${BUILD_ID}`, ...extra], { cwd: dir, stdio: "pipe" });
    cc("demo", ["-fPIE", "-pie"]);
    cc("demo-nopie", ["-fno-PIE", "-no-pie"]);
    return { pie: ElfFile.open(join(dir, "demo")), noPie: ElfFile.open(join(dir, "demo-nopie")), dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

const built = (() => {
  try {
    return { value: build() };
  } catch (e) {
    return { error: e as Error };
  }
})();

after(() => {
  if (built.value) rmSync(built.value.dir, { recursive: true, force: true });
});

function getBuilt(t: { skip(msg: string): void }): Built | undefined {
  if (built.error) throw built.error;
  if (!built.value) t.skip("gcc not installed");
  return built.value;
}

function symbol(f: ElfFile, name: string) {
  const s = f.symbols().find((x) => x.name === name);
  assert.ok(s, `symbol ${name} not found`);
  return s;
}

/** Every allocated section with file bytes must map back to its own offset through the PT_LOAD segments. */
function assertSectionsMapThroughSegments(f: ElfFile): number {
  let checked = 0;
  for (const s of f.sections) {
    if (!(s.flags & SHF_ALLOC) || s.type === SHT_NOBITS || s.size === 0 || s.addr === 0n) continue;
    assert.equal(f.vaddrToFileOffset(s.addr), s.offset, `section ${s.name}`);
    assert.equal(f.fileOffsetToVaddr(s.offset), s.addr, `section ${s.name}`);
    checked++;
  }
  return checked;
}

test("gcc executable: header, segments, vaddr -> file offset", (t) => {
  const b = getBuilt(t);
  if (!b) return;
  for (const [f, type] of [[b.pie, ET_DYN], [b.noPie, ET_EXEC]] as const) {
    assert.equal(f.header.type, type);
    assert.equal(f.header.machine, EM_X86_64);
    const loads = f.programHeaders.filter((p) => p.type === PT_LOAD);
    assert.ok(loads.length >= 2);
    assert.ok(loads.some((p) => p.flags === (PF_R | PF_X)), "an R+X text segment");
    const interp = f.programHeaders.find((p) => p.type === PT_INTERP)!;
    const path = f.bytes.subarray(Number(interp.offset), Number(interp.offset + interp.filesz) - 1);
    assert.match(new TextDecoder().decode(path), /^\/lib.*\/ld-linux-x86-64\.so\.2$/);
    const marker = symbol(f, "marker");
    assert.equal(marker.type, STT_OBJECT);
    const at = f.vaddrToFileOffset(marker.value)!;
    assert.equal(new TextDecoder().decode(f.bytes.subarray(at, at + 13)), "TSBCC-MARKER\0");
    const dataAt = f.vaddrToFileOffset(symbol(f, "data_word").value)!;
    assert.equal(new DataView(f.bytes.buffer, f.bytes.byteOffset).getUint32(dataAt, true), 0x12345678);
    assert.equal(f.vaddrToFileOffset(symbol(f, "bss_word").value), undefined, ".bss has no file bytes");
    const main = symbol(f, "main");
    const text = f.section(".text")!;
    assert.equal(main.type, STT_FUNC);
    assert.equal(f.vaddrToFileOffset(main.value), text.offset + Number(main.value - text.addr));
    assert.ok(assertSectionsMapThroughSegments(f) >= 5);
  }
  assert.ok(symbol(b.noPie, "main").value >= 0x400000n, "non-PIE links at the classic base");
});

test("gcc executable: build-id, dynsym, function symbols", (t) => {
  const b = getBuilt(t);
  if (!b) return;
  const f = b.pie;
  assert.equal(f.buildId(), BUILD_ID);
  assert.equal(b.noPie.buildId(), BUILD_ID);
  const puts = f.dynamicSymbols().find((s) => s.name === "puts")!;
  assert.equal(puts.type, STT_FUNC);
  assert.equal(puts.sectionIndex, 0, "imported, so undefined here");
  const fns = f.functionSymbols();
  const names = fns.map((s) => s.name);
  assert.ok(names.includes("main") && names.includes("fire"), names.join(","));
  assert.ok(!names.includes("puts"), "undefined imports are not function symbols");
  for (let i = 1; i < fns.length; i++) assert.ok(fns[i - 1]!.value <= fns[i]!.value);
  assert.ok(f.symbols().length > f.dynamicSymbols().length, ".symtab preferred over .dynsym");
  // Relocations of a linked executable apply to no particular section (sh_info 0) but still decode.
  const relaDyn = f.section(".rela.dyn")!;
  assert.ok(f.relocations(relaDyn.index).length > 0);
});

test("gcc executable: USDT notes", (t) => {
  const b = getBuilt(t);
  if (!b) return;
  for (const f of [b.pie, b.noPie]) {
    const base = f.stapsdtBase();
    assert.equal(base, f.section(".stapsdt.base")!.addr);
    assert.equal(base, symbol(f, "_.stapsdt.base").value);
    const probes = f.stapsdtNotes();
    assert.equal(probes.length, 2);
    const tick = probes.find((p) => p.name === "tick")!;
    const ready = probes.find((p) => p.name === "ready")!;
    assert.deepEqual([tick.provider, tick.args, tick.semaphore, tick.base], ["tsbcc_demo", "", 0n, base]);
    assert.deepEqual([ready.provider, ready.args, ready.base], ["tsbcc_demo", "8@%rdi", base]);
    assert.equal(ready.semaphore, symbol(f, "tsbcc_demo_ready_semaphore").value);
    assert.equal(ready.adjustedPc, ready.pc);
    const fire = symbol(f, "fire");
    assert.ok(ready.pc >= fire.value && ready.pc < fire.value + fire.size, "probe lies inside fire()");
    for (const p of probes) assert.equal(f.bytes[f.vaddrToFileOffset(p.pc)!], 0x90, "a nop at the probe address");
    const raw = f.notes(".note.stapsdt");
    assert.deepEqual(raw.map((n) => [n.name, n.type]), [["stapsdt", 3], ["stapsdt", 3]]);
  }
});

/** CRC-32 (IEEE, reflected), as `.gnu_debuglink` records it. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test("gcc executable: .gnu_debuglink and the separate debug file", (t) => {
  const b = getBuilt(t);
  if (!b) return;
  if (!findTool("objcopy")) return t.skip("objcopy not installed");
  execFileSync("objcopy", ["--only-keep-debug", "demo", "demo.debug"], { cwd: b.dir });
  execFileSync("objcopy", ["--add-gnu-debuglink=demo.debug", "demo", "demo.linked"], { cwd: b.dir });
  const linked = ElfFile.open(join(b.dir, "demo.linked"));
  const debugBytes = new Uint8Array(readFileSync(join(b.dir, "demo.debug")));
  assert.deepEqual(linked.gnuDebuglink(), { file: "demo.debug", crc: crc32(debugBytes) });
  assert.equal(b.pie.gnuDebuglink(), undefined);
  const debug = ElfFile.open(join(b.dir, "demo.debug"));
  assert.equal(debug.section(".text")!.type, SHT_NOBITS, "code is stripped from the debug file");
  assert.equal(debug.buildId(), BUILD_ID);
  assert.equal(symbol(debug, "main").value, symbol(b.pie, "main").value);
  assert.ok(exerciseAll(debug) > 0);
});

test("system binaries: /bin/ls and the running node", (t) => {
  const candidates = ["/bin/ls", process.execPath].filter((p) => existsSync(p));
  if (candidates.length === 0) return t.skip("neither /bin/ls nor the node binary is readable");
  for (const path of candidates) {
    const f = ElfFile.open(path);
    if (f.header.machine !== EM_X86_64) continue; // assertions below use x86-64 facts only loosely
    assert.ok(f.header.type === ET_DYN || f.header.type === ET_EXEC, path);
    assert.ok(f.programHeaders.filter((p) => p.type === PT_LOAD).length >= 2, path);
    assert.ok(assertSectionsMapThroughSegments(f) >= 5, path);
    const dyn = f.dynamicSymbols();
    assert.ok(dyn.length > 10, path);
    assert.ok(dyn.some((s) => s.name === "malloc" || s.name === "free"), `${path} imports malloc/free`);
    if (!f.section(".symtab")) assert.equal(f.symbols(), dyn, `${path}: stripped, so symbols() is .dynsym`);
    const id = f.buildId();
    if (id !== undefined) assert.match(id, /^[0-9a-f]{16,}$/);
    const entry = f.vaddrToFileOffset(f.header.entry);
    assert.ok(entry !== undefined && entry > 0 && entry < f.bytes.length, `${path}: entry point maps into the file`);
  }
});

test("libstdc++ USDT probes match readelf -n", (t) => {
  const lib = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6"].find((p) => existsSync(p));
  if (!lib) return t.skip("libstdc++.so.6 not found");
  if (!findTool("readelf")) return t.skip("readelf not installed");
  const probes = ElfFile.open(lib).stapsdtNotes();
  if (probes.length === 0) return t.skip("this libstdc++ has no USDT probes");
  const out = execFileSync("readelf", ["-n", "--wide", lib], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  const expected = [...out.matchAll(/Provider: (\S+)\s+Name: (\S+)\s+Location: 0x([0-9a-f]+), Base: 0x([0-9a-f]+), Semaphore: 0x([0-9a-f]+)\s+Arguments: ?([^\n]*)/g)]
    .map((m) => [m[1], m[2], BigInt(`0x${m[3]}`), BigInt(`0x${m[4]}`), BigInt(`0x${m[5]}`), m[6]!.trim()]);
  assert.equal(expected.length, probes.length);
  assert.deepEqual(probes.map((p) => [p.provider, p.name, p.pc, p.base, p.semaphore, p.args]), expected);
});
