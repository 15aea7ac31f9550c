// ELF notes (SHT_NOTE sections and PT_NOTE segments) and the decoders for the notes tsbcc reads:
// GNU build-id, SystemTap SDT probes (USDT) and the `.gnu_debuglink` section.
//
// Note layout: u32 namesz, u32 descsz, u32 type, then the name (namesz bytes including its NUL) padded to
// the alignment, then the descriptor (descsz bytes) padded to the alignment. The alignment is 4 except in
// containers aligned to 8 (e.g. `.note.gnu.property` on 64-bit targets).

import { LeBytes, cString, decodeText } from "./bytes.js";
import { ElfError, NT_GNU_BUILD_ID, NT_STAPSDT } from "./types.js";
import type { ElfNote, GnuDebuglink, StapsdtNote } from "./types.js";

const NOTE_HEADER_SIZE = 12;

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/**
 * Splits a note container into notes.
 * @param data        the container bytes (a view into the file)
 * @param fileOffset  file offset of `data`, for error messages and `ElfNote.offset`
 * @param align       4 or 8
 * @param sectionIndex section index, or -1 for a PT_NOTE segment
 * @param where       description of the container for error messages
 */
export function parseNotes(data: Uint8Array, fileOffset: number, align: number, sectionIndex: number, where: string): ElfNote[] {
  if (align !== 4 && align !== 8) align = 4;
  const rd = new LeBytes(data);
  const notes: ElfNote[] = [];
  let pos = 0;
  // Each iteration consumes at least NOTE_HEADER_SIZE bytes, so the loop is bounded by data.length.
  while (pos < data.length) {
    if (data.length - pos < NOTE_HEADER_SIZE) {
      throw new ElfError(`${where}: ${data.length - pos} trailing bytes at file offset ${fileOffset + pos} are too short for a note header`);
    }
    const namesz = rd.u32(pos, "note namesz");
    const descsz = rd.u32(pos + 4, "note descsz");
    const type = rd.u32(pos + 8, "note type");
    const nameStart = pos + NOTE_HEADER_SIZE;
    const descStart = alignUp(nameStart + namesz, align);
    const descEnd = descStart + descsz;
    if (nameStart + namesz > data.length || descEnd > data.length) {
      throw new ElfError(
        `${where}: note at file offset ${fileOffset + pos} (namesz ${namesz}, descsz ${descsz}) ` +
        `runs past the end of its ${data.length}-byte container`,
      );
    }
    let nameEnd = data.subarray(nameStart, nameStart + namesz).indexOf(0);
    nameEnd = nameEnd < 0 ? nameStart + namesz : nameStart + nameEnd;
    notes.push({
      name: decodeText(data, nameStart, nameEnd),
      type,
      desc: data.subarray(descStart, descEnd),
      offset: fileOffset + pos,
      sectionIndex,
    });
    // The final note's padding may be missing; that is harmless.
    pos = Math.min(alignUp(descEnd, align), data.length);
  }
  return notes;
}

/** Lower-case hex of a GNU build-id note's descriptor, or undefined if `note` is not one. */
export function decodeBuildId(note: ElfNote): string | undefined {
  if (note.name !== "GNU" || note.type !== NT_GNU_BUILD_ID || note.desc.length === 0) return undefined;
  let hex = "";
  for (const b of note.desc) hex += b.toString(16).padStart(2, "0");
  return hex;
}

export function isStapsdtNote(note: ElfNote): boolean {
  return note.name === "stapsdt" && note.type === NT_STAPSDT;
}

/**
 * Decodes an ELF64 "stapsdt" note: u64 pc, u64 base, u64 semaphore, then provider, name and argument
 * strings, each NUL-terminated.
 * @param actualBase address of the `.stapsdt.base` section in this file, if present (prelink correction)
 */
export function decodeStapsdt(note: ElfNote, actualBase?: bigint): StapsdtNote {
  const where = `stapsdt note at file offset ${note.offset}`;
  if (!isStapsdtNote(note)) {
    throw new ElfError(`${where}: owner "${note.name}" type ${note.type} is not a stapsdt probe`);
  }
  const desc = note.desc;
  if (desc.length < 24) {
    throw new ElfError(`${where}: descriptor of ${desc.length} bytes is shorter than the 24-byte address block`);
  }
  const rd = new LeBytes(desc);
  const pc = rd.u64(0, where);
  const base = rd.u64(8, where);
  const semaphore = rd.u64(16, where);
  const strings: string[] = [];
  let pos = 24;
  for (const field of ["provider", "name", "args"]) {
    if (pos >= desc.length) {
      // A probe without arguments may omit the (empty) argument string altogether.
      if (field === "args") {
        strings.push("");
        break;
      }
      throw new ElfError(`${where}: descriptor ends before the ${field} string`);
    }
    strings.push(cString(desc, pos, `${where} ${field}`));
    pos = desc.indexOf(0, pos) + 1; // cString checked that the NUL exists
  }
  const adjustedPc = actualBase !== undefined && base !== 0n ? pc + (actualBase - base) : pc;
  return { provider: strings[0]!, name: strings[1]!, args: strings[2]!, pc, base, semaphore, adjustedPc };
}

/** Decodes a `.gnu_debuglink` section: file name, NUL, padding to 4, u32 CRC-32 of the debug file. */
export function decodeDebuglink(data: Uint8Array, where: string): GnuDebuglink {
  const end = data.indexOf(0);
  if (end < 0) throw new ElfError(`${where}: debug file name is not NUL-terminated`);
  const crcAt = alignUp(end + 1, 4);
  const rd = new LeBytes(data);
  if (crcAt + 4 > data.length) {
    throw new ElfError(`${where}: ${data.length} bytes leave no room for the CRC at offset ${crcAt}`);
  }
  return { file: decodeText(data, 0, end), crc: rd.u32(crcAt, `${where} CRC`) };
}
