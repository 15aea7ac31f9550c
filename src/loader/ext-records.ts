// func_info / line_info records as the loader needs them: per section, sliceable by instruction range and
// re-based, ready for BPF_PROG_LOAD. Built from the BTF.ext parser's output.

/** Records ready for PROG_LOAD: `count` records of `recSize` bytes, instruction offsets in instructions. */
export interface ExtRecords {
  recSize: number;
  bytes: Uint8Array;
  count: number;
}

/** One section's records; `insnOff` of each record is stored in BYTES as in the ELF (the kernel wants instructions). */
export class SectionRecords {
  readonly recSize: number;
  readonly raw: Uint8Array;
  constructor(recSize: number, raw: Uint8Array) {
    this.recSize = recSize;
    this.raw = raw;
  }
  /** Records with byte offset in [start, end), re-based so that `start` becomes instruction `newStart`. */
  slice(start: number, end: number, newStart: number): Uint8Array {
    const n = this.raw.byteLength / this.recSize;
    const picked: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const rec = this.raw.subarray(i * this.recSize, (i + 1) * this.recSize);
      const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
      const off = v.getUint32(0, true);
      if (off < start || off >= end) continue;
      const copy = rec.slice();
      new DataView(copy.buffer, copy.byteOffset).setUint32(0, (off - start) / 8 + newStart, true);
      picked.push(copy);
    }
    const out = new Uint8Array(picked.length * this.recSize);
    picked.forEach((p, i) => out.set(p, i * this.recSize));
    return out;
  }
}

export interface LineRecord {
  /** Byte offset of the instruction within its section. */
  insnOff: number;
  file: string;
  line: number;
  column: number;
  text: string;
}

export interface ProgramExt {
  funcInfo: Map<string, SectionRecords>;
  lineInfo: Map<string, SectionRecords>;
  /** The source line of the instruction at `byteOff` in `section` (the closest record at or before it). */
  lineAt(section: string, byteOff: number): LineRecord | undefined;
}
