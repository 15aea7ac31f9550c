// ELF64 little-endian reader. Parsing validates the header, the section header table (every section's
// bytes must lie inside the input), the section names and the program header table; symbol tables,
// relocations and notes are decoded on first use and cached. All failures are ElfError.
//
// ELF32 and big-endian inputs are rejected: tsbcc's inputs (clang -target bpf objects, x86-64/arm64 binaries
// and libraries) are all ELF64 little-endian.

import { readFileSync } from "node:fs";
import { LeBytes, StringTable } from "./bytes.js";
import { decodeBuildId, decodeDebuglink, decodeStapsdt, isStapsdtNote, parseNotes } from "./notes.js";
import { describeSection, parseRelocations, parseSymbolTable } from "./tables.js";
import {
  EHDR64_SIZE, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ElfError, EV_CURRENT, PHDR64_SIZE, PN_XNUM,
  PT_LOAD, PT_NOTE, SHDR64_SIZE, SHN_XINDEX, SHT_DYNSYM, SHT_NOBITS, SHT_NOTE, SHT_NULL, SHT_REL, SHT_RELA,
  SHT_STRTAB, SHT_SYMTAB, STT_FUNC, STT_GNU_IFUNC, SHN_UNDEF,
} from "./types.js";
import type {
  ElfHeader, ElfNote, ElfProgramHeader, ElfRelocation, ElfSection, ElfSymbol, GnuDebuglink, StapsdtNote,
} from "./types.js";

export class ElfFile {
  /** The whole input; section data and note descriptors are views into it. */
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  /** All sections in header-table order (`sections[i].index === i`); empty when there is no section table. */
  readonly sections: readonly ElfSection[];
  readonly programHeaders: readonly ElfProgramHeader[];

  private readonly symbolCache = new Map<number, ElfSymbol[]>();
  private readonly relocationCache = new Map<number, ElfRelocation[]>();
  private relocationIndex?: Map<number, ElfSection[]>;

  private constructor(bytes: Uint8Array, header: ElfHeader, sections: ElfSection[], phdrs: ElfProgramHeader[]) {
    this.bytes = bytes;
    this.header = header;
    this.sections = sections;
    this.programHeaders = phdrs;
  }

  /** Parses an in-memory image. The bytes are not copied; do not modify them afterwards. */
  static parse(bytes: Uint8Array): ElfFile {
    const rd = new LeBytes(bytes);
    checkIdent(rd);
    rd.need(0, EHDR64_SIZE, "ELF header");
    const shoff = rd.u64n(40, "e_shoff");
    const phoff = rd.u64n(32, "e_phoff");
    const header: ElfHeader = {
      osabi: rd.u8(7, "EI_OSABI"),
      type: rd.u16(16, "e_type"),
      machine: rd.u16(18, "e_machine"),
      entry: rd.u64(24, "e_entry"),
      flags: rd.u32(48, "e_flags"),
      phoff,
      shoff,
      shnum: 0,
      phnum: rd.u16(56, "e_phnum"),
      shstrndx: 0,
    };
    const sections = shoff === 0 ? [] : readSections(rd, header);
    if (header.phnum === PN_XNUM && sections.length > 0) header.phnum = sections[0]!.info;
    const phdrs = readProgramHeaders(rd, header);
    return new ElfFile(bytes, header, sections, phdrs);
  }

  /** Reads and parses a file. I/O failures are Node's own errors; format problems are ElfError. */
  static open(path: string): ElfFile {
    const buf = readFileSync(path);
    return ElfFile.parse(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }

  /** First section with this name. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /**
   * Symbols of the SHT_SYMTAB or SHT_DYNSYM section at `sectionIndex`, indexed by symbol number (decoded
   * once, then cached: the same array and objects are returned on every call, so do not modify them).
   */
  symbolTable(sectionIndex: number): ElfSymbol[] {
    let symbols = this.symbolCache.get(sectionIndex);
    if (!symbols) {
      symbols = parseSymbolTable(this.sections, sectionIndex);
      this.symbolCache.set(sectionIndex, symbols);
    }
    return symbols;
  }

  /** The static symbol table (`.symtab`), or the dynamic one when the file is stripped; [] if neither. */
  symbols(): ElfSymbol[] {
    const s = this.sections.find((x) => x.type === SHT_SYMTAB) ?? this.sections.find((x) => x.type === SHT_DYNSYM);
    return s ? this.symbolTable(s.index) : [];
  }

  /** The dynamic symbol table (`.dynsym`); [] if absent. */
  dynamicSymbols(): ElfSymbol[] {
    const s = this.sections.find((x) => x.type === SHT_DYNSYM);
    return s ? this.symbolTable(s.index) : [];
  }

  /**
   * Defined function symbols (STT_FUNC and STT_GNU_IFUNC) from `.symtab` and `.dynsym` together,
   * without duplicates, sorted by address: the input for symbolization and uprobe name lookup.
   */
  functionSymbols(): ElfSymbol[] {
    const byName = new Map<string, ElfSymbol[]>(); // for dropping .dynsym entries that repeat .symtab ones
    const out: ElfSymbol[] = [];
    for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
      for (const s of this.sections) {
        if (s.type !== type) continue;
        for (const sym of this.symbolTable(s.index)) {
          if ((sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC) || sym.sectionIndex === SHN_UNDEF) continue;
          const same = byName.get(sym.name);
          if (same?.some((x) => x.value === sym.value)) continue;
          if (same) same.push(sym);
          else byName.set(sym.name, [sym]);
          out.push(sym);
        }
      }
    }
    return out.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  /** SHT_REL and SHT_RELA sections whose sh_info names section `targetIndex`. */
  relocationSectionsFor(targetIndex: number): ElfSection[] {
    if (!this.relocationIndex) {
      const index = new Map<number, ElfSection[]>();
      for (const s of this.sections) {
        if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
        const list = index.get(s.info);
        if (list) list.push(s);
        else index.set(s.info, [s]);
      }
      this.relocationIndex = index;
    }
    return this.relocationIndex.get(targetIndex) ?? [];
  }

  /** Entries of one SHT_REL/SHT_RELA section (decoded once, then cached). */
  relocations(relocationSectionIndex: number): ElfRelocation[] {
    let relocs = this.relocationCache.get(relocationSectionIndex);
    if (!relocs) {
      const s = this.sections[relocationSectionIndex];
      if (!s) throw new ElfError(`section index ${relocationSectionIndex} is out of range (${this.sections.length} sections)`);
      relocs = parseRelocations(this.sections, s, (i) => this.symbolTable(i));
      this.relocationCache.set(relocationSectionIndex, relocs);
    }
    return relocs;
  }

  /** All relocation entries that patch section `targetIndex`, from every section that applies to it. */
  relocationsFor(targetIndex: number): ElfRelocation[] {
    const sections = this.relocationSectionsFor(targetIndex);
    if (sections.length === 1) return this.relocations(sections[0]!.index);
    return sections.flatMap((s) => this.relocations(s.index));
  }

  /**
   * File offset holding the byte at virtual address `addr`, found through the PT_LOAD segments;
   * undefined when no segment maps it from the file (including .bss-style memory-only tails) or the
   * resulting offset is outside this file.
   */
  vaddrToFileOffset(addr: bigint | number): number | undefined {
    const a = BigInt(addr);
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_LOAD || a < ph.vaddr || a - ph.vaddr >= ph.filesz) continue;
      const offset = ph.offset + (a - ph.vaddr);
      return offset < BigInt(this.bytes.length) ? Number(offset) : undefined;
    }
    return undefined;
  }

  /** Inverse of vaddrToFileOffset: the virtual address a PT_LOAD segment maps file offset `offset` to. */
  fileOffsetToVaddr(offset: bigint | number): bigint | undefined {
    const o = BigInt(offset);
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_LOAD || o < ph.offset || o - ph.offset >= ph.filesz) continue;
      return ph.vaddr + (o - ph.offset);
    }
    return undefined;
  }

  /**
   * Notes of the named section ([] if it does not exist or has no file data); without a name, notes of
   * every SHT_NOTE section, or of the PT_NOTE segments when the file has no section table.
   */
  notes(sectionName?: string): ElfNote[] {
    if (sectionName !== undefined) {
      const s = this.section(sectionName);
      return s ? this.sectionNotes(s) : [];
    }
    if (this.sections.length > 0) {
      return this.sections.filter((s) => s.type === SHT_NOTE).flatMap((s) => this.sectionNotes(s));
    }
    return this.programHeaders.filter((ph) => ph.type === PT_NOTE).flatMap((ph) => {
      const where = `PT_NOTE program header ${ph.index}`;
      const length = BigInt(this.bytes.length);
      if (ph.offset > length || ph.filesz > length - ph.offset) {
        throw new ElfError(`${where}: ${ph.filesz} bytes at offset ${ph.offset} exceed the ${length}-byte input`);
      }
      const offset = Number(ph.offset);
      const data = this.bytes.subarray(offset, offset + Number(ph.filesz));
      return parseNotes(data, offset, ph.align === 8n ? 8 : 4, -1, where);
    });
  }

  /** GNU build-id as lower-case hex, or undefined when the file has none. */
  buildId(): string | undefined {
    const preferred = this.notes(".note.gnu.build-id");
    for (const note of preferred.length > 0 ? preferred : this.notes()) {
      const id = decodeBuildId(note);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** The `.gnu_debuglink` section (separate debug file name and its CRC-32), if present. */
  gnuDebuglink(): GnuDebuglink | undefined {
    const s = this.section(".gnu_debuglink");
    return s && s.type !== SHT_NOBITS ? decodeDebuglink(s.data, describeSection(s)) : undefined;
  }

  /** Address of the `.stapsdt.base` section (USDT prelink reference point), if present. */
  stapsdtBase(): bigint | undefined {
    return this.section(".stapsdt.base")?.addr;
  }

  /** USDT probes from `.note.stapsdt`. */
  stapsdtNotes(): StapsdtNote[] {
    const base = this.stapsdtBase();
    return this.notes(".note.stapsdt").filter(isStapsdtNote).map((n) => decodeStapsdt(n, base));
  }

  private sectionNotes(s: ElfSection): ElfNote[] {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) return [];
    return parseNotes(s.data, s.offset, s.addralign === 8 ? 8 : 4, s.index, describeSection(s));
  }
}

function checkIdent(rd: LeBytes): void {
  const b = rd.bytes;
  if (b.length < 4 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    throw new ElfError("not an ELF file: bad magic at offset 0");
  }
  const cls = rd.u8(4, "EI_CLASS");
  if (cls === ELFCLASS32) throw new ElfError("ELF32 files are not supported (EI_CLASS at offset 4 is ELFCLASS32)");
  if (cls !== ELFCLASS64) throw new ElfError(`invalid EI_CLASS ${cls} at offset 4`);
  const data = rd.u8(5, "EI_DATA");
  if (data === ELFDATA2MSB) throw new ElfError("big-endian ELF files are not supported (EI_DATA at offset 5 is ELFDATA2MSB)");
  if (data !== ELFDATA2LSB) throw new ElfError(`invalid EI_DATA ${data} at offset 5`);
  const version = rd.u8(6, "EI_VERSION");
  if (version !== EV_CURRENT) throw new ElfError(`unsupported EI_VERSION ${version} at offset 6`);
}

function readSections(rd: LeBytes, header: ElfHeader): ElfSection[] {
  const shoff = header.shoff;
  const entsize = rd.u16(58, "e_shentsize");
  if (entsize < SHDR64_SIZE) {
    throw new ElfError(`e_shentsize ${entsize} at offset 58 is smaller than the ${SHDR64_SIZE}-byte section header`);
  }
  // Section 0 carries the real counts when they do not fit in the 16-bit header fields.
  rd.need(shoff, entsize, `section header 0 (e_shoff ${shoff})`);
  let shnum = rd.u16(60, "e_shnum");
  if (shnum === 0) shnum = rd.u64n(shoff + 32, "section 0 sh_size (extended section count)");
  let shstrndx = rd.u16(62, "e_shstrndx");
  if (shstrndx === SHN_XINDEX) shstrndx = rd.u32(shoff + 40, "section 0 sh_link (extended e_shstrndx)");
  // Checking the whole table up front bounds the loop below by the input size.
  if (shnum > rd.length / entsize) {
    throw new ElfError(`section header table (${shnum} x ${entsize} bytes at offset ${shoff}) exceeds the ${rd.length}-byte input`);
  }
  rd.need(shoff, shnum * entsize, "section header table");
  header.shnum = shnum;
  header.shstrndx = shstrndx;

  const sections: ElfSection[] = new Array(shnum);
  const nameOffsets: number[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * entsize;
    const what = `section header ${i}`;
    const type = rd.u32(at + 4, what);
    const offset = rd.u64n(at + 24, `${what} sh_offset`);
    const size = rd.u64n(at + 32, `${what} sh_size`);
    // Empty sections are not checked: tools sometimes leave their sh_offset past the end of the file.
    const hasData = type !== SHT_NOBITS && type !== SHT_NULL && size > 0;
    nameOffsets[i] = rd.u32(at, what);
    sections[i] = {
      index: i,
      name: "",
      type,
      flags: rd.u64n(at + 8, `${what} sh_flags`),
      addr: rd.u64(at + 16, what),
      offset,
      size,
      link: rd.u32(at + 40, what),
      info: rd.u32(at + 44, what),
      addralign: rd.u64n(at + 48, `${what} sh_addralign`),
      entsize: rd.u64n(at + 56, `${what} sh_entsize`),
      data: hasData ? rd.slice(offset, size, `section ${i} data (sh_offset ${offset}, sh_size ${size})`) : new Uint8Array(0),
    };
  }

  if (shstrndx !== 0) {
    const names = sections[shstrndx];
    if (!names) throw new ElfError(`e_shstrndx ${shstrndx} is out of range (${shnum} sections)`);
    if (names.type !== SHT_STRTAB) throw new ElfError(`e_shstrndx ${shstrndx} names a section of type ${names.type}, not SHT_STRTAB`);
    const table = new StringTable(names.data, `section name table (section ${shstrndx})`);
    for (let i = 0; i < shnum; i++) sections[i]!.name = table.get(nameOffsets[i]!);
  }
  return sections;
}

function readProgramHeaders(rd: LeBytes, header: ElfHeader): ElfProgramHeader[] {
  const { phoff, phnum } = header;
  if (phnum === 0 || phoff === 0) return [];
  const entsize = rd.u16(54, "e_phentsize");
  if (entsize < PHDR64_SIZE) {
    throw new ElfError(`e_phentsize ${entsize} at offset 54 is smaller than the ${PHDR64_SIZE}-byte program header`);
  }
  if (phnum > rd.length / entsize) {
    throw new ElfError(`program header table (${phnum} x ${entsize} bytes at offset ${phoff}) exceeds the ${rd.length}-byte input`);
  }
  rd.need(phoff, phnum * entsize, "program header table");
  const out: ElfProgramHeader[] = new Array(phnum);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * entsize;
    const what = `program header ${i} at offset ${at}`;
    out[i] = {
      index: i,
      type: rd.u32(at, what),
      flags: rd.u32(at + 4, what),
      offset: rd.u64(at + 8, what),
      vaddr: rd.u64(at + 16, what),
      paddr: rd.u64(at + 24, what),
      filesz: rd.u64(at + 32, what),
      memsz: rd.u64(at + 40, what),
      align: rd.u64(at + 48, what),
    };
  }
  return out;
}
