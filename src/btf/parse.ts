/**
 * Raw BTF parsing: header, one validating pass over the type section, string table checks.
 *
 * The pass records where each type starts (a Uint32Array of word indexes) and checks every length, string offset
 * and type reference, so that everything built later from these arrays can index them without further checks.
 * No type objects are created here; see `btf.ts` for on-demand materialization.
 */
import { BtfError, asBytes, type Bytes } from "./error.js";
import { BTF_KIND } from "./types.js";

export const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;

export interface BtfHeader {
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  /** Offsets are relative to the end of the header, as in the file. */
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
  readonly littleEndian: boolean;
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Detect byte order from the magic; throws BtfError when it is not BTF. */
export function detectEndian(bytes: Uint8Array, what = "BTF"): boolean {
  if (bytes.length < 2) throw new BtfError(`${what}: ${bytes.length} bytes, too short for a header`);
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) return true;
  if (bytes[0] === 0xeb && bytes[1] === 0x9f) return false;
  throw new BtfError(`${what}: bad magic 0x${bytes[0].toString(16).padStart(2, "0")}${bytes[1].toString(16).padStart(2, "0")}`);
}

export function parseHeader(input: Bytes): BtfHeader {
  const bytes = asBytes(input);
  const le = detectEndian(bytes);
  if (bytes.length < HEADER_MIN) throw new BtfError(`BTF: ${bytes.length} bytes, header needs ${HEADER_MIN}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h: BtfHeader = {
    version: bytes[2],
    flags: bytes[3],
    hdrLen: dv.getUint32(4, le),
    typeOff: dv.getUint32(8, le),
    typeLen: dv.getUint32(12, le),
    strOff: dv.getUint32(16, le),
    strLen: dv.getUint32(20, le),
    littleEndian: le,
  };
  if (h.version !== 1) throw new BtfError(`BTF: unsupported version ${h.version}`);
  if (h.hdrLen < HEADER_MIN || h.hdrLen > bytes.length) throw new BtfError(`BTF: bad header length ${h.hdrLen}`);
  const body = bytes.length - h.hdrLen;
  if (h.typeOff + h.typeLen > body) throw new BtfError(`BTF: type section [${h.typeOff}, +${h.typeLen}) exceeds ${body} bytes`);
  if (h.strOff + h.strLen > body) throw new BtfError(`BTF: string section [${h.strOff}, +${h.strLen}) exceeds ${body} bytes`);
  if ((h.hdrLen + h.typeOff) % 4 !== 0 || h.typeLen % 4 !== 0) throw new BtfError("BTF: type section is not 4-byte aligned");
  return h;
}

/** The type section as host-order u32 words: a view when possible, a (byte-swapped) copy otherwise. */
export function sectionWords(bytes: Uint8Array, start: number, length: number, le: boolean): Uint32Array {
  const abs = bytes.byteOffset + start;
  if (le === HOST_LITTLE_ENDIAN && abs % 4 === 0) return new Uint32Array(bytes.buffer, abs, length >>> 2);
  const out = new Uint32Array(length >>> 2);
  const dv = new DataView(bytes.buffer, abs, length);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(i * 4, le);
  return out;
}

export interface TypeScan {
  /** Word index of each type's first word; entry i is type id firstId + i. */
  readonly offsets: Uint32Array;
  readonly count: number;
}

/** Words after the 3-word common header: a fixed part plus a per-vlen part, by kind number. */
const FIXED_WORDS = new Uint8Array([0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
const VLEN_WORDS = new Uint8Array([0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3]);
const MAX_KIND = 19;

/**
 * Walk the type section once, recording where each type starts. This checks the framing (kinds, lengths, the
 * type's own name offset); the contents of each record (type references, member names, INT encodings) are
 * checked when the type is materialized, or all at once by `validateTypes`. Keeping this loop minimal is what
 * makes a cold parse of vmlinux BTF take a few milliseconds.
 */
export function scanTypes(w: Uint32Array, strLimit: number, firstId: number): TypeScan {
  const n = w.length;
  // Each type takes at least 3 words, which bounds the count.
  const offsets = new Uint32Array(((n / 3) | 0) + 1);
  let count = 0;
  let p = 0;
  while (p < n) {
    if (p + 3 > n) throw new BtfError(`BTF: type ${firstId + count} truncated`);
    const info = w[p + 1];
    const kind = (info >>> 24) & 0x1f;
    if (kind === 0 || kind > MAX_KIND) throw new BtfError(`BTF: type ${firstId + count}: unknown kind ${kind}`);
    if (w[p] >= strLimit) throw new BtfError(`BTF: type ${firstId + count}: name offset ${w[p]} out of range`);
    offsets[count++] = p;
    p += 3 + FIXED_WORDS[kind] + VLEN_WORDS[kind] * (info & 0xffff);
  }
  if (p !== n) throw new BtfError(`BTF: type ${firstId + count - 1} truncated`);
  return { offsets: offsets.slice(0, count), count };
}

/**
 * Check the contents of every record: every type reference < `limit`, every name offset < `strLimit`, INT
 * encodings consistent, reserved bits clear. Materialization checks the same things lazily; this is the eager
 * form (`Btf.parse(bytes, { validate: true })`).
 */
export function validateTypes(w: Uint32Array, offsets: Uint32Array, strLimit: number, firstId: number, limit: number): void {
  for (let i = 0; i < offsets.length; i++) {
    const p = offsets[i];
    const id = firstId + i;
    const info = w[p + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if ((info & 0x60ff0000) !== 0) throw new BtfError(`BTF: type ${id}: reserved info bits set`);
    const ref = (r: number): void => {
      if (r >= limit) throw new BtfError(`BTF: type ${id}: reference to type ${r}, only ${limit} types`);
    };
    const name = (o: number): void => {
      if (o >= strLimit) throw new BtfError(`BTF: type ${id}: name offset ${o} out of range`);
    };
    switch (kind) {
      case BTF_KIND.INT:
        checkInt(id, w[p + 2], w[p + 3]);
        break;
      case BTF_KIND.PTR: case BTF_KIND.TYPEDEF: case BTF_KIND.VOLATILE: case BTF_KIND.CONST: case BTF_KIND.RESTRICT:
      case BTF_KIND.FUNC: case BTF_KIND.TYPE_TAG: case BTF_KIND.VAR: case BTF_KIND.DECL_TAG: case BTF_KIND.FUNC_PROTO:
        ref(w[p + 2]);
        break;
      case BTF_KIND.ARRAY:
        ref(w[p + 3]);
        ref(w[p + 4]);
        break;
    }
    for (let j = 0; j < vlen; j++) {
      switch (kind) {
        case BTF_KIND.STRUCT: case BTF_KIND.UNION: name(w[p + 3 + j * 3]); ref(w[p + 4 + j * 3]); break;
        case BTF_KIND.ENUM: name(w[p + 3 + j * 2]); break;
        case BTF_KIND.ENUM64: name(w[p + 3 + j * 3]); break;
        case BTF_KIND.FUNC_PROTO: name(w[p + 3 + j * 2]); ref(w[p + 4 + j * 2]); break;
        case BTF_KIND.DATASEC: ref(w[p + 3 + j * 3]); break;
        default: j = vlen;
      }
    }
  }
}

export function checkInt(id: number, size: number, enc: number): void {
  const bits = enc & 0xff;
  const off = (enc >>> 16) & 0xff;
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8 && size !== 16) throw new BtfError(`BTF: int type ${id}: bad size ${size}`);
  if (bits === 0 || bits > 128 || off + bits > size * 8) throw new BtfError(`BTF: int type ${id}: bad bit layout`);
}
