// Shared helpers for the ELF reader tests: a tiny ELF64 writer for hand-made inputs, tool probing,
// and a function that exercises every lazy query of an ElfFile (used by the malformed-input tests).

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElfFile, PT_LOAD } from "../../src/elf/index.js";

/** Absolute path of `tool` on PATH, or undefined. */
export function findTool(tool: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tsbcc-${prefix}-`));
}

export interface SectionSpec {
  name: string;
  type: number;
  flags?: number;
  addr?: bigint;
  data?: Uint8Array;
  /** Size for data-less sections (SHT_NOBITS); defaults to data.length. */
  size?: number;
  link?: number;
  info?: number;
  addralign?: number;
  entsize?: number;
}

export interface SegmentSpec {
  type: number;
  flags?: number;
  vaddr: bigint;
  memsz?: bigint;
  /** Maps the data of this section (index as in the output file) when set; else offset/filesz below. */
  section?: number;
  offset?: bigint;
  filesz?: bigint;
  align?: bigint;
}

export interface BuiltElf {
  bytes: Uint8Array;
  /** File offset of each section's data, by output section index. */
  offsets: number[];
  shoff: number;
  phoff: number;
}

/**
 * Writes an ELF64 little-endian file. Output section 0 is the null section, the given sections follow
 * (so `sections[k]` becomes index k + 1), and `.shstrtab` comes last.
 */
export function buildElf(opts: { type?: number; machine?: number; sections: SectionSpec[]; segments?: SegmentSpec[] }): BuiltElf {
  const specs: SectionSpec[] = [{ name: "", type: 0 }, ...opts.sections];
  const names = stringTable(specs.map((s) => s.name).concat(".shstrtab"));
  specs.push({ name: ".shstrtab", type: 3, data: names.data });
  const segments = opts.segments ?? [];
  const phoff = segments.length > 0 ? 64 : 0;
  let pos = 64 + segments.length * 56;
  const offsets: number[] = [];
  for (const s of specs) {
    pos = align(pos, 8);
    offsets.push(pos);
    pos += s.data?.length ?? 0;
  }
  const shoff = align(pos, 8);
  const bytes = new Uint8Array(shoff + specs.length * 64);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, opts.type ?? 1, true);
  v.setUint16(18, opts.machine ?? 247, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segments.length, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, specs.length, true);
  v.setUint16(62, specs.length - 1, true);
  segments.forEach((seg, i) => {
    const at = phoff + i * 56;
    const sec = seg.section !== undefined ? specs[seg.section]! : undefined;
    const filesz = sec ? BigInt(sec.data?.length ?? 0) : (seg.filesz ?? 0n);
    v.setUint32(at, seg.type, true);
    v.setUint32(at + 4, seg.flags ?? 4, true);
    v.setBigUint64(at + 8, sec ? BigInt(offsets[seg.section!]!) : (seg.offset ?? 0n), true);
    v.setBigUint64(at + 16, seg.vaddr, true);
    v.setBigUint64(at + 24, seg.vaddr, true);
    v.setBigUint64(at + 32, filesz, true);
    v.setBigUint64(at + 40, seg.memsz ?? filesz, true);
    v.setBigUint64(at + 48, seg.align ?? 0x1000n, true);
  });
  specs.forEach((s, i) => {
    if (s.data) bytes.set(s.data, offsets[i]!);
    const at = shoff + i * 64;
    v.setUint32(at, i === 0 ? 0 : names.offsets.get(s.name)!, true);
    v.setUint32(at + 4, s.type, true);
    v.setBigUint64(at + 8, BigInt(s.flags ?? 0), true);
    v.setBigUint64(at + 16, s.addr ?? 0n, true);
    v.setBigUint64(at + 24, BigInt(i === 0 ? 0 : offsets[i]!), true);
    v.setBigUint64(at + 32, BigInt(s.size ?? s.data?.length ?? 0), true);
    v.setUint32(at + 40, s.link ?? 0, true);
    v.setUint32(at + 44, s.info ?? 0, true);
    v.setBigUint64(at + 48, BigInt(s.addralign ?? 1), true);
    v.setBigUint64(at + 56, BigInt(s.entsize ?? 0), true);
  });
  return { bytes, offsets, shoff, phoff };
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A string table (leading NUL) and the offset of each distinct string. */
export function stringTable(strings: string[]): { data: Uint8Array; offsets: Map<string, number> } {
  const offsets = new Map<string, number>([["", 0]]);
  const parts: number[] = [0];
  for (const s of strings) {
    if (offsets.has(s)) continue;
    offsets.set(s, parts.length);
    parts.push(...text(s), 0);
  }
  return { data: Uint8Array.from(parts), offsets };
}

export interface SymSpec {
  name: number;
  info: number;
  other?: number;
  shndx: number;
  value: bigint;
  size: bigint;
}

export function symbolBytes(symbols: SymSpec[]): Uint8Array {
  const out = new Uint8Array(symbols.length * 24);
  const v = new DataView(out.buffer);
  symbols.forEach((s, i) => {
    v.setUint32(i * 24, s.name, true);
    out[i * 24 + 4] = s.info;
    out[i * 24 + 5] = s.other ?? 0;
    v.setUint16(i * 24 + 6, s.shndx, true);
    v.setBigUint64(i * 24 + 8, s.value, true);
    v.setBigUint64(i * 24 + 16, s.size, true);
  });
  return out;
}

/** SHT_REL entries (16 bytes) or, when any entry has an addend, SHT_RELA entries (24 bytes). */
export function relocationBytes(entries: { offset: bigint; sym: number; type: number; addend?: bigint }[], rela: boolean): Uint8Array {
  const size = rela ? 24 : 16;
  const out = new Uint8Array(entries.length * size);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => {
    v.setBigUint64(i * size, e.offset, true);
    v.setBigUint64(i * size + 8, (BigInt(e.sym) << 32n) | BigInt(e.type), true);
    if (rela) v.setBigInt64(i * size + 16, e.addend ?? 0n, true);
  });
  return out;
}

/** One note record with the given alignment (4 or 8). */
export function noteBytes(name: string, type: number, desc: Uint8Array, alignment = 4): Uint8Array {
  const nameBytes = name === "" ? new Uint8Array(0) : concat(text(name), new Uint8Array(1));
  const descAt = align(12 + nameBytes.length, alignment);
  const out = new Uint8Array(align(descAt + desc.length, alignment));
  const v = new DataView(out.buffer);
  v.setUint32(0, nameBytes.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, descAt);
  return out;
}

/** UTF-8 bytes of a string (no terminator added). */
export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Runs every query an ElfFile offers, so lazy decoding errors surface too. Returns a small digest. */
export function exerciseAll(file: ElfFile): number {
  let n = file.sections.length + file.programHeaders.length;
  for (const s of file.sections) n += s.data.length > 0 ? 1 : 0;
  n += file.symbols().length + file.dynamicSymbols().length + file.functionSymbols().length;
  for (const s of file.sections) {
    if (s.type === 2 || s.type === 11) n += file.symbolTable(s.index).length;
    n += file.relocationsFor(s.index).length;
    if (s.type === 4 || s.type === 9) n += file.relocations(s.index).length;
  }
  n += file.notes().length;
  n += file.buildId()?.length ?? 0;
  n += file.gnuDebuglink()?.file.length ?? 0;
  n += file.stapsdtNotes().length;
  for (const ph of file.programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    n += file.vaddrToFileOffset(ph.vaddr) ?? 0;
    n += Number(file.fileOffsetToVaddr(ph.offset) ?? 0n) & 1;
  }
  return n;
}

/** Deterministic PRNG (xorshift32) in [0, 1), so fuzz failures reproduce. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function u64le(...values: bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setBigUint64(i * 8, x, true));
  return out;
}

/** Descriptor of an ELF64 stapsdt note. */
export function stapsdtDesc(pc: bigint, base: bigint, semaphore: bigint, provider: string, name: string, args: string): Uint8Array {
  return concat(u64le(pc, base, semaphore), text(`${provider}\0${name}\0${args}\0`));
}

export const SAMPLE_BUILD_ID = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);

/** A hand-made relocatable object shaped like clang's BPF output (section indexes in comments). */
export function sampleObject(): BuiltElf {
  const prog = "tracepoint/syscalls/sys_enter_getppid";
  const str = stringTable(["sample.c", "bss_var", "count_getppid", "counts", "_license", "helper", "ext_fn"]);
  const o = (s: string) => str.offsets.get(s)!;
  const symbols = symbolBytes([
    { name: 0, info: 0, shndx: 0, value: 0n, size: 0n },
    { name: o("sample.c"), info: 0x04, shndx: 0xfff1, value: 0n, size: 0n }, // LOCAL FILE, SHN_ABS
    { name: 0, info: 0x03, shndx: 1, value: 0n, size: 0n }, // LOCAL SECTION .text
    { name: o("bss_var"), info: 0x01, shndx: 5, value: 8n, size: 8n }, // LOCAL OBJECT
    { name: o("count_getppid"), info: 0x12, shndx: 2, value: 0n, size: 32n }, // GLOBAL FUNC
    { name: o("counts"), info: 0x11, shndx: 3, value: 0n, size: 32n }, // GLOBAL OBJECT
    { name: o("_license"), info: 0x11, shndx: 4, value: 0n, size: 4n },
    { name: o("helper"), info: 0x22, other: 2, shndx: 1, value: 0n, size: 16n }, // WEAK FUNC hidden
    { name: o("ext_fn"), info: 0x10, shndx: 0, value: 0n, size: 0n }, // GLOBAL NOTYPE undefined
  ]);
  // r1 = counts ll (ld_imm64, 16 bytes); r0 = 0; exit
  const progCode = Uint8Array.from([
    0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xb7, 0x00, 0, 0, 0, 0, 0, 0,
    0x95, 0, 0, 0, 0, 0, 0, 0,
  ]);
  return buildElf({
    type: 1,
    machine: 247,
    sections: [
      { name: ".text", type: 1, flags: 0x6, addralign: 8, data: new Uint8Array(16).fill(0x07) }, // 1
      { name: prog, type: 1, flags: 0x6, addralign: 8, data: progCode }, // 2
      { name: ".maps", type: 1, flags: 0x3, addralign: 8, data: new Uint8Array(32) }, // 3
      { name: "license", type: 1, flags: 0x3, data: text("GPL\0") }, // 4
      { name: ".bss", type: 8, flags: 0x3, size: 4096, addralign: 8 }, // 5
      { name: ".symtab", type: 2, link: 7, info: 4, entsize: 24, addralign: 8, data: symbols }, // 6
      { name: ".strtab", type: 3, data: str.data }, // 7
      { name: `.rel${prog}`, type: 9, flags: 0x40, link: 6, info: 2, entsize: 16, addralign: 8,
        data: relocationBytes([{ offset: 0n, sym: 5, type: 1 }], false) }, // 8
      { name: ".rela.text", type: 4, flags: 0x40, link: 6, info: 1, entsize: 24, addralign: 8,
        data: relocationBytes([{ offset: 8n, sym: 7, type: 10, addend: -8n }, { offset: 0n, sym: 8, type: 2, addend: 0x1234n }], true) }, // 9
      { name: ".note.stapsdt", type: 7, addralign: 4,
        data: noteBytes("stapsdt", 3, stapsdtDesc(0x1010n, 0x2000n, 0x3000n, "prov", "probe1", "-4@%edi 8@%rsi")) }, // 10
      { name: ".stapsdt.base", type: 1, flags: 0x2, addr: 0x2000n, data: new Uint8Array(1) }, // 11
      { name: ".note.gnu.build-id", type: 7, flags: 0x2, addralign: 4, data: noteBytes("GNU", 3, SAMPLE_BUILD_ID) }, // 12
      { name: ".gnu_debuglink", type: 1, addralign: 4, data: concat(text("sample.debug\0\0\0\0"), u64le(0xcafef00dn).subarray(0, 4)) }, // 13
    ],
  });
}

/** A hand-made x86-64 executable image: loadable segments, .dynsym/.symtab, notes, a .bss tail. */
export function sampleExecutable(): BuiltElf {
  const dynstr = stringTable(["main", "puts"]);
  const str = stringTable(["local_fn", "main", "greeting", "counter"]);
  const code = new Uint8Array(64).fill(0x90);
  code[16] = 0xcc;
  return buildElf({
    type: 3,
    machine: 62,
    sections: [
      { name: ".text", type: 1, flags: 0x6, addr: 0x401000n, addralign: 16, data: code }, // 1
      { name: ".rodata", type: 1, flags: 0x2, addr: 0x402000n, data: text("hello\0") }, // 2
      { name: ".bss", type: 8, flags: 0x3, addr: 0x403000n, size: 0x100 }, // 3
      { name: ".dynsym", type: 11, flags: 0x2, link: 5, info: 1, entsize: 24, addralign: 8, data: symbolBytes([
        { name: 0, info: 0, shndx: 0, value: 0n, size: 0n },
        { name: dynstr.offsets.get("main")!, info: 0x12, shndx: 1, value: 0x401000n, size: 16n },
        { name: dynstr.offsets.get("puts")!, info: 0x12, shndx: 0, value: 0n, size: 0n },
      ]) }, // 4
      { name: ".dynstr", type: 3, flags: 0x2, data: dynstr.data }, // 5
      { name: ".symtab", type: 2, link: 7, info: 2, entsize: 24, addralign: 8, data: symbolBytes([
        { name: 0, info: 0, shndx: 0, value: 0n, size: 0n },
        { name: str.offsets.get("local_fn")!, info: 0x02, shndx: 1, value: 0x401010n, size: 8n },
        { name: str.offsets.get("main")!, info: 0x12, shndx: 1, value: 0x401000n, size: 16n },
        { name: str.offsets.get("greeting")!, info: 0x11, shndx: 2, value: 0x402000n, size: 6n },
        { name: str.offsets.get("counter")!, info: 0x11, shndx: 3, value: 0x403000n, size: 8n },
      ]) }, // 6
      { name: ".strtab", type: 3, data: str.data }, // 7
      { name: ".note.gnu.build-id", type: 7, flags: 0x2, addralign: 4, data: noteBytes("GNU", 3, SAMPLE_BUILD_ID) }, // 8
      { name: ".note.stapsdt", type: 7, addralign: 4, data: concat(
        noteBytes("stapsdt", 3, stapsdtDesc(0x401010n, 0x402100n, 0x403010n, "myapp", "start", "8@%rdi")),
        noteBytes("stapsdt", 3, stapsdtDesc(0x401020n, 0x402100n, 0n, "myapp", "tick", "")),
      ) }, // 9
      { name: ".stapsdt.base", type: 1, flags: 0x2, addr: 0x402100n, data: new Uint8Array(1) }, // 10
      { name: ".rela.dyn", type: 4, flags: 0x2, link: 4, entsize: 24, addralign: 8,
        data: relocationBytes([{ offset: 0x403008n, sym: 0, type: 8, addend: 0x401000n }, { offset: 0x403018n, sym: 2, type: 6 }], true) }, // 11
    ],
    segments: [
      { type: 1, flags: 5, vaddr: 0x401000n, section: 1 },
      { type: 1, flags: 4, vaddr: 0x402000n, section: 2 },
      { type: 1, flags: 6, vaddr: 0x403000n, offset: 0n, filesz: 0n, memsz: 0x100n },
      { type: 4, flags: 4, vaddr: 0x400300n, section: 8, align: 4n },
    ],
  });
}
