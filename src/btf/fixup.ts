// Object BTF as clang writes it is not quite what the kernel accepts: DATASEC records carry size 0 and
// variable offsets 0, because only the linker knows section sizes and symbol addresses. The loader knows
// them from the ELF, so it patches a copy of the raw BTF here before BTF_LOAD. Walking the raw records keeps
// this independent of the type model (and cheap).
import { BtfError } from "./error.js";

const HEADER_MIN = 24;
const KIND_INT = 1, KIND_ARRAY = 3, KIND_STRUCT = 4, KIND_UNION = 5, KIND_ENUM = 6, KIND_FUNC_PROTO = 13;
const KIND_VAR = 14, KIND_DATASEC = 15, KIND_DECL_TAG = 17, KIND_ENUM64 = 19;

/** Bytes that follow the 12-byte common header of a type record of this kind. */
function trailerSize(kind: number, vlen: number): number {
  switch (kind) {
    case KIND_INT: case KIND_VAR: case KIND_DECL_TAG: return 4;
    case KIND_ARRAY: return 12;
    case KIND_STRUCT: case KIND_UNION: case KIND_DATASEC: case KIND_ENUM64: return 12 * vlen;
    case KIND_ENUM: case KIND_FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}

export interface DatasecFixups {
  /** Size of the ELF section with this name, if it exists. */
  sectionSize(name: string): number | undefined;
  /** Offset of a variable inside its section (the ELF symbol's value). */
  variableOffset(section: string, variable: string): number | undefined;
}

/** Returns a patched copy of `raw` with DATASEC sizes and variable offsets filled in. */
export function fixupDatasecs(raw: Uint8Array, fix: DatasecFixups): Uint8Array {
  const out = raw.slice();
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out.byteLength < HEADER_MIN || v.getUint16(0, true) !== 0xeb9f) throw new BtfError("not little-endian BTF (bad magic)");
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true), typeLen = v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true), strLen = v.getUint32(20, true);
  if (typeOff + typeLen > out.byteLength || strOff + strLen > out.byteLength) throw new BtfError("BTF sections beyond end of data");
  const decoder = new TextDecoder();
  const str = (off: number): string => {
    if (off >= strLen) throw new BtfError(`string offset ${off} beyond string section (${strLen} bytes)`);
    let end = strOff + off;
    while (end < strOff + strLen && out[end] !== 0) end++;
    return decoder.decode(out.subarray(strOff + off, end));
  };
  // Names of VAR records by type id, needed to look up each DATASEC entry's symbol.
  const varNames = new Map<number, string>();
  const datasecs: number[] = [];
  let pos = typeOff, id = 1;
  const end = typeOff + typeLen;
  while (pos < end) {
    if (pos + 12 > end) throw new BtfError(`truncated type record at byte ${pos}`);
    const info = v.getUint32(pos + 4, true);
    const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
    if (kind === KIND_VAR) varNames.set(id, str(v.getUint32(pos, true)));
    if (kind === KIND_DATASEC) datasecs.push(pos);
    pos += 12 + trailerSize(kind, vlen);
    id++;
  }
  if (pos !== end) throw new BtfError("type section does not end on a record boundary");
  for (const at of datasecs) {
    const name = str(v.getUint32(at, true));
    const vlen = v.getUint32(at + 4, true) & 0xffff;
    const size = fix.sectionSize(name);
    if (size !== undefined && v.getUint32(at + 8, true) === 0) v.setUint32(at + 8, size, true);
    for (let i = 0; i < vlen; i++) {
      const rec = at + 12 + i * 12;
      const varName = varNames.get(v.getUint32(rec, true));
      if (varName === undefined) continue;
      const off = fix.variableOffset(name, varName);
      if (off !== undefined) v.setUint32(rec + 4, off, true);
    }
  }
  return out;
}
