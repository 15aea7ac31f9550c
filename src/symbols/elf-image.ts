// Opens an ELF file for symbolization without reading all of it: a 100 MB binary needs only its headers,
// symbol and string tables and a few small sections. The bytes go into a zero-filled buffer the size of the
// file (untouched pages of a large zeroed allocation are never made resident), so the ordinary ElfFile parser
// and its bounds checks run unchanged; sections that were not read simply hold zeros and are never looked at.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ElfFile, SHT_DYNSYM, SHT_NOTE, SHT_NOBITS, SHT_SYMTAB, type ElfSection } from "../elf/index.js";

/** Sections whose contents symbolization reads (plus the string tables the symbol tables link to). */
const WANTED_NAMES = new Set([".gnu_debuglink", ".gnu_debugdata"]);

function wanted(s: ElfSection): boolean {
  return s.type === SHT_SYMTAB || s.type === SHT_DYNSYM || s.type === SHT_NOTE || WANTED_NAMES.has(s.name);
}

function readAt(fd: number, buf: Uint8Array, offset: number, length: number): void {
  const end = Math.min(offset + length, buf.length);
  let at = offset;
  while (at < end) {
    const n = readSync(fd, buf, at, end - at, at);
    if (n <= 0) break;
    at += n;
  }
}

/**
 * Parses the ELF file at `path`, reading only what symbolization needs. Throws Node's I/O errors and ElfError
 * for malformed files, as ElfFile.open does.
 */
export function openElfForSymbols(path: string): ElfFile {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(size);
    readAt(fd, buf, 0, 64);
    const view = new DataView(buf.buffer);
    const isElf64 = buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46 && buf[4] === 2;
    if (isElf64 && size >= 64) {
      const phoff = Number(view.getBigUint64(32, true));
      const shoff = Number(view.getBigUint64(40, true));
      readAt(fd, buf, phoff, view.getUint16(54, true) * view.getUint16(56, true));
      const shentsize = view.getUint16(58, true);
      let shnum = view.getUint16(60, true);
      let shstrndx = view.getUint16(62, true);
      if (shoff > 0 && shoff < size) {
        readAt(fd, buf, shoff, shentsize);
        if (shnum === 0 && shoff + 40 <= size) shnum = Number(view.getBigUint64(shoff + 32, true));
        if (shstrndx === 0xffff && shoff + 44 <= size) shstrndx = view.getUint32(shoff + 40, true);
        readAt(fd, buf, shoff, Math.min(shnum * shentsize, size - shoff));
        const names = shoff + shstrndx * shentsize;
        if (names + 40 <= size) readAt(fd, buf, Number(view.getBigUint64(names + 24, true)), Number(view.getBigUint64(names + 32, true)));
      }
    }
    const elf = ElfFile.parse(buf);
    for (const s of elf.sections) {
      if (!wanted(s) || s.type === SHT_NOBITS) continue;
      readAt(fd, buf, s.offset, s.size);
      if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) {
        const strtab = elf.sections[s.link];
        if (strtab && strtab.type !== SHT_NOBITS) readAt(fd, buf, strtab.offset, strtab.size);
      }
    }
    return elf;
  } finally {
    closeSync(fd);
  }
}
