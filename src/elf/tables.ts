// Symbol tables and relocation sections. Entry counts come from section sizes that the reader has already
// checked against the file length, so every loop here is bounded by the input size.

import { LeBytes, StringTable } from "./bytes.js";
import {
  ElfError, REL64_SIZE, RELA64_SIZE, SHN_XINDEX, SHT_DYNSYM, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_STRTAB,
  SHT_SYMTAB, SHT_SYMTAB_SHNDX, SYM64_SIZE,
} from "./types.js";
import type { ElfRelocation, ElfSection, ElfSymbol } from "./types.js";

export function describeSection(s: ElfSection): string {
  return `section ${s.index} (${s.name || "<unnamed>"})`;
}

/** Validates entsize against the record size and returns the entry count. */
function entryCount(s: ElfSection, minEntsize: number, kind: string): number {
  if (s.type === SHT_NOBITS) {
    throw new ElfError(`${describeSection(s)}: ${kind} has no file data (SHT_NOBITS)`);
  }
  if (s.entsize === 0) {
    throw new ElfError(`${describeSection(s)}: ${kind} has sh_entsize 0`);
  }
  if (s.entsize < minEntsize) {
    throw new ElfError(`${describeSection(s)}: ${kind} sh_entsize ${s.entsize} is smaller than ${minEntsize}`);
  }
  if (s.size % s.entsize !== 0) {
    throw new ElfError(`${describeSection(s)}: ${kind} size ${s.size} is not a multiple of sh_entsize ${s.entsize}`);
  }
  return s.size / s.entsize;
}

function linkedSection(sections: readonly ElfSection[], s: ElfSection, wantTypes: number[], kind: string): ElfSection {
  const linked = s.link > 0 && s.link < sections.length ? sections[s.link] : undefined;
  if (!linked || !wantTypes.includes(linked.type)) {
    throw new ElfError(`${describeSection(s)}: sh_link ${s.link} does not name a ${kind} section`);
  }
  return linked;
}

/** Decodes the SHT_SYMTAB or SHT_DYNSYM section at `index`. */
export function parseSymbolTable(sections: readonly ElfSection[], index: number): ElfSymbol[] {
  const s = sections[index];
  if (!s || (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM)) {
    throw new ElfError(`section ${index} is not a symbol table`);
  }
  const count = entryCount(s, SYM64_SIZE, "symbol table");
  const strtab = new StringTable(linkedSection(sections, s, [SHT_STRTAB], "string table").data, `${describeSection(s)} string table`);
  const rd = new LeBytes(s.data);
  let extIndexes: LeBytes | undefined; // SHT_SYMTAB_SHNDX, looked up only when a symbol needs it
  const symbols: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * s.entsize;
    const info = rd.u8(at + 4, "st_info");
    let sectionIndex = rd.u16(at + 6, "st_shndx");
    if (sectionIndex === SHN_XINDEX) {
      extIndexes ??= extendedIndexTable(sections, s, count);
      sectionIndex = extIndexes.u32(i * 4, "SHT_SYMTAB_SHNDX entry");
    }
    symbols[i] = {
      index: i,
      name: strtab.get(rd.u32(at, "st_name")),
      value: rd.u64(at + 8, "st_value"),
      size: rd.u64(at + 16, "st_size"),
      type: info & 0xf,
      bind: info >> 4,
      visibility: rd.u8(at + 5, "st_other") & 0x3,
      sectionIndex,
    };
  }
  return symbols;
}

function extendedIndexTable(sections: readonly ElfSection[], symtab: ElfSection, count: number): LeBytes {
  const table = sections.find((x) => x.type === SHT_SYMTAB_SHNDX && x.link === symtab.index);
  if (!table) {
    throw new ElfError(`${describeSection(symtab)}: a symbol uses SHN_XINDEX but no SHT_SYMTAB_SHNDX section links to it`);
  }
  if (table.size < count * 4) {
    throw new ElfError(`${describeSection(table)}: ${table.size} bytes cannot hold ${count} extended section indexes`);
  }
  return new LeBytes(table.data);
}

const NULL_SYMBOL: ElfSymbol = Object.freeze({
  index: 0, name: "", value: 0n, size: 0n, type: 0, bind: 0, visibility: 0, sectionIndex: 0,
});

/**
 * Decodes an SHT_REL or SHT_RELA section. `symbolsOf` returns the decoded symbol table linked by sh_link
 * (so the caller can cache it); every symbol index is checked against it.
 */
export function parseRelocations(
  sections: readonly ElfSection[],
  rel: ElfSection,
  symbolsOf: (symtabIndex: number) => ElfSymbol[],
): ElfRelocation[] {
  const isRela = rel.type === SHT_RELA;
  if (!isRela && rel.type !== SHT_REL) {
    throw new ElfError(`${describeSection(rel)} is not a relocation section`);
  }
  const count = entryCount(rel, isRela ? RELA64_SIZE : REL64_SIZE, "relocation section");
  // Static executables carry `.rela.plt` (IRELATIVE only) with sh_link 0: no symbol table, only symbol 0.
  const symbols: ElfSymbol[] = count === 0 ? [] : rel.link === 0 ? [NULL_SYMBOL]
    : symbolsOf(linkedSection(sections, rel, [SHT_SYMTAB, SHT_DYNSYM], "symbol table").index);
  const rd = new LeBytes(rel.data);
  const out: ElfRelocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * rel.entsize;
    const info = rd.u64(at + 8, "r_info");
    const symbolIndex = Number(info >> 32n);
    const symbol = symbols[symbolIndex];
    if (!symbol) {
      throw new ElfError(
        `${describeSection(rel)}: relocation ${i} at file offset ${rel.offset + at} refers to symbol ${symbolIndex}, ` +
        `but the symbol table has ${symbols.length} entries`,
      );
    }
    out[i] = {
      offset: rd.u64(at, "r_offset"),
      symbolIndex,
      symbol,
      type: Number(info & 0xffffffffn),
      addend: isRela ? rd.i64(at + 16, "r_addend") : 0n,
    };
  }
  return out;
}
