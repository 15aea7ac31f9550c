/**
 * `.BTF.ext`: per-ELF-section func_info, line_info and CO-RE relocation records emitted by clang.
 *
 * Layout: a header (magic, version, flags, hdr_len, then offset/length pairs for the three blocks, relative to the
 * end of the header; the CO-RE pair only when hdr_len allows). Each block starts with a u32 record size followed
 * by groups {u32 section name offset, u32 record count, records...}. Record instruction offsets are in BYTES
 * from the start of the ELF section; the kernel wants instruction indexes, which `forLoad` produces. Strings
 * (section names, file names, source lines, CO-RE access strings) live in the `.BTF` string table.
 */
import type { Btf } from "./btf.js";
import { BtfError, asBytes, type Bytes } from "./error.js";
import { HOST_LITTLE_ENDIAN, detectEndian } from "./parse.js";

export interface FuncInfoRecord {
  /** Byte offset of the function's first instruction in its ELF section. */
  readonly insnOff: number;
  /** BTF id of the FUNC type. */
  readonly typeId: number;
}

export interface LineInfoRecord {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** Raw `line_col`: line number << 10 | column. */
  readonly lineCol: number;
  readonly line: number;
  readonly column: number;
}

export interface CoreReloRecord {
  readonly insnOff: number;
  readonly typeId: number;
  readonly accessStrOff: number;
  /** Access string such as "0:1:2" (member indexes) or an enumerator index. */
  readonly accessStr: string;
  readonly kind: number;
  readonly kindName: string;
}

/** Records of one kind for one ELF section, plus their raw bytes (records back to back, file byte order). */
export interface ExtSection<R> {
  readonly section: string;
  readonly recordSize: number;
  readonly records: readonly R[];
  readonly raw: Uint8Array;
}

/** Records ready for BPF_PROG_LOAD: little/host-endian, instruction offsets in instructions. */
export interface LoadRecords {
  readonly recordSize: number;
  readonly count: number;
  readonly bytes: Uint8Array;
}

export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The source line's text as clang recorded it ("" when absent). */
  readonly text: string;
  /** Byte offset of the line_info record's instruction (at or before the one asked about). */
  readonly insnOff: number;
}

export interface ForLoadOptions {
  /** Keep only records with byte offset in [from, to); default the whole section. */
  from?: number;
  to?: number;
  /** Instruction index that byte offset `from` becomes (where this code lands in the loaded program). */
  insnBase?: number;
}

export const CORE_RELO_KINDS: readonly string[] = [
  "field_byte_offset", "field_byte_size", "field_exists", "field_signed", "field_lshift_u64", "field_rshift_u64",
  "type_id_local", "type_id_target", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
];

const INSN_SIZE = 8;
const MIN_FUNC_REC = 8;
const MIN_LINE_REC = 16;
const MIN_CORE_REC = 16;

interface Block {
  recordSize: number;
  groups: { section: string; start: number; count: number }[];
}

export class BtfExt {
  readonly littleEndian: boolean;
  readonly funcInfo: ReadonlyMap<string, ExtSection<FuncInfoRecord>>;
  readonly lineInfo: ReadonlyMap<string, ExtSection<LineInfoRecord>>;
  readonly coreRelos: ReadonlyMap<string, ExtSection<CoreReloRecord>>;
  private readonly btf: Btf;
  private readonly sortedLines = new Map<string, LineInfoRecord[]>();

  private constructor(bytes: Uint8Array, btf: Btf) {
    this.btf = btf;
    const le = detectEndian(bytes, "BTF.ext");
    this.littleEndian = le;
    if (bytes.length < 8) throw new BtfError("BTF.ext: truncated header");
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes[2] !== 1) throw new BtfError(`BTF.ext: unsupported version ${bytes[2]}`);
    const hdrLen = dv.getUint32(4, le);
    if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`BTF.ext: bad header length ${hdrLen}`);
    const pair = (at: number): [number, number] => [dv.getUint32(at, le), dv.getUint32(at + 4, le)];
    const read = (off: number, len: number, min: number, what: string): Block | undefined =>
      this.readBlock(bytes, dv, hdrLen, off, len, min, what);
    const [fo, fl] = pair(8);
    const [lo, ll] = pair(16);
    const func = read(fo, fl, MIN_FUNC_REC, "func_info");
    const line = read(lo, ll, MIN_LINE_REC, "line_info");
    let core: Block | undefined;
    if (hdrLen >= 32) {
      const [co, cl] = pair(24);
      core = read(co, cl, MIN_CORE_REC, "core_relo");
    }
    this.funcInfo = this.sections(bytes, func, (at) => ({ insnOff: dv.getUint32(at, le), typeId: this.typeRef(dv.getUint32(at + 4, le)) }));
    this.lineInfo = this.sections(bytes, line, (at) => {
      const fileNameOff = dv.getUint32(at + 4, le);
      const lineOff = dv.getUint32(at + 8, le);
      this.checkStr(fileNameOff);
      this.checkStr(lineOff);
      const lineCol = dv.getUint32(at + 12, le);
      return { insnOff: dv.getUint32(at, le), fileNameOff, lineOff, lineCol, line: lineCol >>> 10, column: lineCol & 0x3ff };
    });
    this.coreRelos = this.sections(bytes, core, (at) => {
      const accessStrOff = dv.getUint32(at + 8, le);
      const kind = dv.getUint32(at + 12, le);
      return {
        insnOff: dv.getUint32(at, le), typeId: this.typeRef(dv.getUint32(at + 4, le)), accessStrOff,
        accessStr: this.string(accessStrOff), kind, kindName: CORE_RELO_KINDS[kind] ?? `unknown(${kind})`,
      };
    });
  }

  /** Parse `.BTF.ext` bytes; `btf` is the object's parsed `.BTF` (its strings and types are referenced). */
  static parse(input: Bytes, btf: Btf): BtfExt {
    if (!(input instanceof Uint8Array)) throw new BtfError("BTF.ext: expected a Uint8Array");
    return new BtfExt(asBytes(input), btf);
  }

  private checkStr(off: number): void {
    if (off >= this.btf.stringsEnd) throw new BtfError(`BTF.ext: string offset ${off} out of range`);
  }

  private string(off: number): string {
    this.checkStr(off);
    return this.btf.str(off);
  }

  private typeRef(id: number): number {
    if (id >= this.btf.length) throw new BtfError(`BTF.ext: reference to type ${id}, only ${this.btf.length} types`);
    return id;
  }

  private readBlock(bytes: Uint8Array, dv: DataView, hdrLen: number, off: number, len: number, min: number, what: string): Block | undefined {
    if (len === 0) return undefined;
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length || len < 4) throw new BtfError(`BTF.ext: ${what} block [${off}, +${len}) out of range`);
    const le = this.littleEndian;
    const recordSize = dv.getUint32(start, le);
    if (recordSize < min || recordSize % 4 !== 0 || recordSize > 1024) throw new BtfError(`BTF.ext: ${what} record size ${recordSize}`);
    const groups: Block["groups"] = [];
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) throw new BtfError(`BTF.ext: ${what} section header truncated`);
      const section = this.string(dv.getUint32(p, le));
      const count = dv.getUint32(p + 4, le);
      p += 8;
      if (count * recordSize > end - p) throw new BtfError(`BTF.ext: ${what} of ${section}: ${count} records exceed the block`);
      groups.push({ section, start: p, count });
      p += count * recordSize;
    }
    return { recordSize, groups };
  }

  private sections<R>(bytes: Uint8Array, block: Block | undefined, rec: (at: number) => R): Map<string, ExtSection<R>> {
    const out = new Map<string, ExtSection<R>>();
    if (!block) return out;
    for (const g of block.groups) {
      const records: R[] = new Array(g.count);
      for (let i = 0; i < g.count; i++) records[i] = rec(g.start + i * block.recordSize);
      const raw = bytes.subarray(g.start, g.start + g.count * block.recordSize);
      const prev = out.get(g.section);
      // A section appearing twice is legal in principle; merge so callers see one list per section.
      if (prev) {
        const merged = new Uint8Array(prev.raw.length + raw.length);
        merged.set(prev.raw);
        merged.set(raw, prev.raw.length);
        out.set(g.section, { section: g.section, recordSize: block.recordSize, records: [...prev.records, ...records], raw: merged });
      } else {
        out.set(g.section, { section: g.section, recordSize: block.recordSize, records, raw });
      }
    }
    return out;
  }

  /** Names of ELF sections with func_info or line_info. */
  sectionNames(): string[] {
    return [...new Set([...this.funcInfo.keys(), ...this.lineInfo.keys()])];
  }

  /** func_info for BPF_PROG_LOAD (instruction offsets converted from bytes and re-based). */
  funcInfoForLoad(section: string, options: ForLoadOptions = {}): LoadRecords | undefined {
    const s = this.funcInfo.get(section);
    return s && this.forLoad(s, options);
  }

  /** line_info for BPF_PROG_LOAD (instruction offsets converted from bytes and re-based). */
  lineInfoForLoad(section: string, options: ForLoadOptions = {}): LoadRecords | undefined {
    const s = this.lineInfo.get(section);
    return s && this.forLoad(s, options);
  }

  private forLoad(s: ExtSection<FuncInfoRecord | LineInfoRecord>, options: ForLoadOptions): LoadRecords {
    const from = options.from ?? 0;
    const to = options.to ?? Infinity;
    const insnBase = options.insnBase ?? 0;
    const rs = s.recordSize;
    const picked: number[] = [];
    s.records.forEach((r, i) => {
      if (r.insnOff >= from && r.insnOff < to) {
        if ((r.insnOff - from) % INSN_SIZE !== 0) throw new BtfError(`BTF.ext: ${s.section}: offset ${r.insnOff} is not instruction-aligned`);
        picked.push(i);
      }
    });
    const bytes = new Uint8Array(picked.length * rs);
    const out = new DataView(bytes.buffer);
    const src = new DataView(s.raw.buffer, s.raw.byteOffset, s.raw.byteLength);
    picked.forEach((i, k) => {
      // Every field is a u32, so a word-wise copy converts file order to host order.
      for (let w = 0; w < rs; w += 4) out.setUint32(k * rs + w, src.getUint32(i * rs + w, this.littleEndian), HOST_LITTLE_ENDIAN);
      out.setUint32(k * rs, (s.records[i].insnOff - from) / INSN_SIZE + insnBase, HOST_LITTLE_ENDIAN);
    });
    return { recordSize: rs, count: picked.length, bytes };
  }

  /** The source line of the instruction at byte offset `insnOff` of `section` (closest record at or before it). */
  sourceLine(section: string, insnOff: number): SourceLine | undefined {
    let recs = this.sortedLines.get(section);
    if (!recs) {
      const s = this.lineInfo.get(section);
      if (!s) return undefined;
      // clang emits records in offset order; sort a copy anyway so a merged or hand-made section works too.
      recs = [...s.records].sort((a, b) => a.insnOff - b.insnOff);
      this.sortedLines.set(section, recs);
    }
    // Binary search for the last record at or before insnOff.
    let lo = 0;
    let hi = recs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid].insnOff <= insnOff) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const r = recs[best];
    return { file: this.btf.str(r.fileNameOff), line: r.line, column: r.column, text: this.btf.str(r.lineOff), insnOff: r.insnOff };
  }
}

/** Concatenate load records of several pieces (e.g. a program and the subprograms appended after it). */
export function concatLoadRecords(parts: readonly (LoadRecords | undefined)[]): LoadRecords | undefined {
  const present = parts.filter((p): p is LoadRecords => p !== undefined && p.count > 0);
  if (present.length === 0) return undefined;
  const rs = present[0].recordSize;
  if (present.some((p) => p.recordSize !== rs)) throw new BtfError("BTF.ext: cannot concatenate records of different sizes");
  const bytes = new Uint8Array(present.reduce((n, p) => n + p.bytes.length, 0));
  let o = 0;
  for (const p of present) {
    bytes.set(p.bytes, o);
    o += p.bytes.length;
  }
  return { recordSize: rs, count: bytes.length / rs, bytes };
}
