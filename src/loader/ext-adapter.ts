// Builds the loader's view of .BTF.ext (per-section func_info/line_info, source lines) from the raw section.
import type { Btf } from "../btf/btf.js";
import { SectionRecords, type LineRecord, type ProgramExt } from "./ext-records.js";

export function programExt(raw: Uint8Array, btf: Btf): ProgramExt {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.byteLength < 24 || v.getUint16(0, true) !== 0xeb9f) throw new Error(".BTF.ext: bad magic");
  const hdrLen = v.getUint32(4, true);
  const readInfo = (off: number, len: number): Map<string, SectionRecords> => {
    const out = new Map<string, SectionRecords>();
    if (len === 0) return out;
    let p = hdrLen + off;
    const end = p + len;
    if (end > raw.byteLength || len < 4) throw new Error(".BTF.ext: info section beyond end of data");
    const recSize = v.getUint32(p, true);
    p += 4;
    if (recSize < 8) throw new Error(`.BTF.ext: record size ${recSize} too small`);
    while (p < end) {
      if (p + 8 > end) throw new Error(".BTF.ext: truncated section header");
      const name = btf.str(v.getUint32(p, true));
      const n = v.getUint32(p + 4, true);
      p += 8;
      if (p + n * recSize > end) throw new Error(`.BTF.ext: records of ${name} beyond end of data`);
      out.set(name, new SectionRecords(recSize, raw.slice(p, p + n * recSize)));
      p += n * recSize;
    }
    return out;
  };
  const funcInfo = readInfo(v.getUint32(8, true), v.getUint32(12, true));
  const lineInfo = readInfo(v.getUint32(16, true), v.getUint32(20, true));
  return {
    funcInfo,
    lineInfo,
    lineAt(section, byteOff): LineRecord | undefined {
      const recs = lineInfo.get(section);
      if (!recs) return undefined;
      const rv = new DataView(recs.raw.buffer, recs.raw.byteOffset, recs.raw.byteLength);
      let best: LineRecord | undefined;
      for (let i = 0; i < recs.raw.byteLength / recs.recSize; i++) {
        const at = i * recs.recSize;
        const insnOff = rv.getUint32(at, true);
        if (insnOff > byteOff) break;
        const lineCol = rv.getUint32(at + 12, true);
        best = { insnOff, file: btf.str(rv.getUint32(at + 4, true)), text: btf.str(rv.getUint32(at + 8, true)), line: lineCol >>> 10, column: lineCol & 0x3ff };
      }
      return best;
    },
  };
}
