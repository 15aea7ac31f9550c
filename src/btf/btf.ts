/**
 * `Btf`: a parsed BTF blob (kernel, module/split, or object BTF) with types materialized on demand.
 *
 * Parsing does one validating pass (see parse.ts) and keeps the raw words; `type(id)` builds (materialize.ts) and
 * caches the object for one id. Name lookups compare bytes in the string table, and after a few lookups build a
 * hash index, so a tool that needs three types out of 130k never decodes the other names.
 */
import { BtfError, asBytes, type Bytes } from "./error.js";
import { materializeType } from "./materialize.js";
import { parseHeader, scanTypes, sectionWords, validateTypes, type BtfHeader } from "./parse.js";
import { typeToString } from "./spell.js";
import { cstringEquals, encodeUtf8, hashBytes, hashCString, readCString } from "./strings.js";
import {
  BTF_KIND, KIND_NAMES, VOID, alignof, arrayInfo, findMember, kindNumber, resolve, sizeof,
  type BtfKind, type BtfType, type Member, type TypeSource,
} from "./types.js";

export interface ParseOptions {
  /** For split BTF (kernel module BTF): the BTF whose ids and strings this one continues. */
  base?: Btf;
  /**
   * Check every record's contents now instead of when each type is first used (about 3x the parse time for
   * vmlinux). Without it, a bad reference surfaces as a BtfError from `type()` or the helpers.
   */
  validate?: boolean;
}

export interface EnumeratorHit {
  /** The ENUM or ENUM64 type holding the enumerator. */
  typeId: number;
  value: number | bigint;
}

/** Lookups served by a linear byte scan before a hash index is worth building. */
const SCANS_BEFORE_INDEX = 4;

export class Btf implements TypeSource {
  readonly base: Btf | undefined;
  readonly header: BtfHeader;
  readonly littleEndian: boolean;
  /** Id of the first type defined by this blob (1, or the base's `length`). */
  readonly firstId: number;
  /** One past the highest valid id (ids of the base included). */
  readonly length: number;
  /** Total string space: base strings then ours. */
  readonly stringsEnd: number;
  /** Own string table. The input bytes are referenced, not copied: do not modify them. */
  readonly strings: Uint8Array;
  private readonly words: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly strBase: number;
  private readonly cache: (BtfType | undefined)[];
  private nameTable: Int32Array | undefined;
  private nameScans = 0;
  private enumTable: { slots: Int32Array; typeIds: Int32Array; index: Int32Array } | undefined;
  private enumScans = 0;

  private readonly strCache = new Map<number, string>();

  private constructor(bytes: Uint8Array, base: Btf | undefined, validate: boolean) {
    const h = parseHeader(bytes);
    this.header = h;
    this.base = base;
    this.littleEndian = h.littleEndian;
    if (base && base.littleEndian !== h.littleEndian) throw new BtfError("BTF: split BTF byte order differs from its base");
    const strStart = h.hdrLen + h.strOff;
    // A Buffer view (no copy) so strings decode with Buffer's native slicers even when given a plain Uint8Array.
    this.strings = Buffer.from(bytes.buffer, bytes.byteOffset + strStart, h.strLen) as unknown as Uint8Array;
    this.strBase = base ? base.stringsEnd : 0;
    this.stringsEnd = this.strBase + h.strLen;
    if (h.strLen > 0 && this.strings[h.strLen - 1] !== 0) throw new BtfError("BTF: string section does not end with NUL");
    if (!base && (h.strLen === 0 || this.strings[0] !== 0)) throw new BtfError("BTF: string section must start with NUL");
    this.words = sectionWords(bytes, h.hdrLen + h.typeOff, h.typeLen, h.littleEndian);
    this.firstId = base ? base.length : 1;
    const scan = scanTypes(this.words, this.stringsEnd, this.firstId);
    this.offsets = scan.offsets;
    this.length = this.firstId + scan.count;
    this.cache = new Array<BtfType | undefined>(scan.count);
    if (validate) validateTypes(this.words, this.offsets, this.stringsEnd, this.firstId, this.length);
  }

  /**
   * Parse a raw BTF blob. Throws BtfError for anything malformed. The input is referenced, not copied (when it
   * is little-endian and 4-byte aligned): do not modify or recycle it while the Btf is in use.
   */
  static parse(input: Bytes, options: ParseOptions = {}): Btf {
    if (!(input instanceof Uint8Array)) throw new BtfError("BTF: expected a Uint8Array");
    return new Btf(asBytes(input), options.base, options.validate ?? false);
  }

  /** Number of types defined by this blob (not counting the base or void). */
  get count(): number {
    return this.length - this.firstId;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.length) throw new BtfError(`BTF: no type id ${id}`);
  }

  /** Kind number of a type without materializing it. */
  kindOf(id: number): number {
    if (id === 0) return BTF_KIND.VOID;
    if (id < this.firstId && this.base) return this.base.kindOf(id);
    this.checkId(id);
    return (this.words[this.offsets[id - this.firstId] + 1] >>> 24) & 0x1f;
  }

  kindName(id: number): BtfKind {
    return KIND_NAMES[this.kindOf(id)];
  }

  /** Name of a type without materializing it ("" when anonymous). */
  nameOf(id: number): string {
    if (id === 0) return "";
    if (id < this.firstId && this.base) return this.base.nameOf(id);
    this.checkId(id);
    return this.str(this.words[this.offsets[id - this.firstId]]);
  }

  /** String at an offset of the (base + own) string space. */
  str(off: number): string {
    if (off < this.strBase && this.base) return this.base.str(off);
    const local = off - this.strBase;
    if (!Number.isInteger(local) || local < 0 || local >= this.strings.length) throw new BtfError(`BTF: string offset ${off} out of range`);
    let s = this.strCache.get(local);
    if (s === undefined) {
      s = readCString(this.strings, local);
      this.strCache.set(local, s);
    }
    return s;
  }

  /** The type with this id (0 is void). Objects are cached: the same id gives the same object. */
  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.firstId && this.base) return this.base.type(id);
    this.checkId(id);
    const i = id - this.firstId;
    let t = this.cache[i];
    if (t === undefined) {
      t = materializeType(this, this.words, id, this.offsets[i]);
      this.cache[i] = t;
    }
    return t;
  }

  /** Ids defined by this blob (not the base), optionally only of one kind. */
  *ids(kind?: BtfKind): IterableIterator<number> {
    const k = kind === undefined ? -1 : kindNumber(kind);
    for (let i = 0; i < this.offsets.length; i++) {
      if (k < 0 || ((this.words[this.offsets[i] + 1] >>> 24) & 0x1f) === k) yield this.firstId + i;
    }
  }

  /** Every type defined by this blob, materialized (slow for vmlinux; prefer lookups). */
  *types(kind?: BtfKind): IterableIterator<BtfType> {
    for (const id of this.ids(kind)) yield this.type(id);
  }

  // ---- name lookup --------------------------------------------------------------------------------------------

  private nameEquals(off: number, name: Uint8Array): boolean {
    if (off < this.strBase && this.base) return this.base.nameEquals(off, name);
    return cstringEquals(this.strings, off - this.strBase, name);
  }

  private nameHash(off: number): number {
    if (off < this.strBase && this.base) return this.base.nameHash(off);
    return hashCString(this.strings, off - this.strBase);
  }

  private static slot(hash: number, kind: number, mask: number): number {
    return (Math.imul(hash ^ (kind * 0x9e3779b1), 0x85ebca6b) >>> 0) & mask;
  }

  private buildNameTable(): Int32Array {
    const n = this.offsets.length;
    let size = 16;
    while (size < n * 2) size *= 2;
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < n; i++) {
      const p = this.offsets[i];
      const off = this.words[p];
      if (off === 0) continue;
      let s = Btf.slot(this.nameHash(off), (this.words[p + 1] >>> 24) & 0x1f, mask);
      while (table[s] !== 0) s = (s + 1) & mask;
      table[s] = i + 1;
    }
    return table;
  }

  /** Own ids with this kind and name, ascending. */
  private ownIds(kind: number, name: Uint8Array, all: boolean, out: number[]): void {
    const w = this.words;
    const offs = this.offsets;
    if (!this.nameTable && ++this.nameScans > SCANS_BEFORE_INDEX) this.nameTable = this.buildNameTable();
    const table = this.nameTable;
    if (!table) {
      for (let i = 0; i < offs.length; i++) {
        const p = offs[i];
        if (((w[p + 1] >>> 24) & 0x1f) === kind && w[p] !== 0 && this.nameEquals(w[p], name)) {
          out.push(this.firstId + i);
          if (!all) return;
        }
      }
      return;
    }
    const mask = table.length - 1;
    const found: number[] = [];
    for (let s = Btf.slot(hashBytes(name), kind, mask); table[s] !== 0; s = (s + 1) & mask) {
      const i = table[s] - 1;
      const p = offs[i];
      if (((w[p + 1] >>> 24) & 0x1f) === kind && this.nameEquals(w[p], name)) found.push(this.firstId + i);
    }
    found.sort((a, b) => a - b);
    if (found.length) out.push(...(all ? found : found.slice(0, 1)));
  }

  private collectIds(kind: number, name: Uint8Array, all: boolean, out: number[]): void {
    if (this.base) {
      this.base.collectIds(kind, name, all, out);
      if (!all && out.length) return;
    }
    this.ownIds(kind, name, all, out);
  }

  /** Every id of this kind and name (base ids first), ascending. */
  findIds(kind: BtfKind, name: string): number[] {
    const out: number[] = [];
    if (name !== "") this.collectIds(kindNumber(kind), encodeUtf8(name), true, out);
    return out;
  }

  /** First id with this kind and name, or 0 when absent. */
  findId(kind: BtfKind, name: string): number {
    const out: number[] = [];
    if (name !== "") this.collectIds(kindNumber(kind), encodeUtf8(name), false, out);
    return out.length ? out[0] : 0;
  }

  /** First type with this kind and name. */
  findByName(kind: BtfKind, name: string): BtfType | undefined {
    const id = this.findId(kind, name);
    return id === 0 ? undefined : this.type(id);
  }

  // ---- enumerator lookup -------------------------------------------------------------------------------------

  private isEnumKind(k: number): boolean {
    return k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64;
  }

  /**
   * Calls `fn(typeIndex, memberIndex, nameOffset)` for every enumerator of this BTF's own ENUM/ENUM64 types, in id
   * order, until `fn` returns true. Works on the raw words: no type is materialized.
   */
  private forEachEnumerator(fn: (i: number, j: number, nameOff: number) => boolean | void): void {
    const w = this.words;
    for (let i = 0; i < this.offsets.length; i++) {
      const p = this.offsets[i];
      const kind = (w[p + 1] >>> 24) & 0x1f;
      if (!this.isEnumKind(kind)) continue;
      const stride = kind === BTF_KIND.ENUM ? 2 : 3;
      const vlen = w[p + 1] & 0xffff;
      for (let j = 0; j < vlen; j++) if (fn(i, j, w[p + 3 + j * stride]) === true) return;
    }
  }

  private buildEnumTable(): { slots: Int32Array; typeIds: Int32Array; index: Int32Array } {
    const w = this.words;
    let total = 0;
    for (let i = 0; i < this.offsets.length; i++) {
      const info = w[this.offsets[i] + 1];
      if (this.isEnumKind((info >>> 24) & 0x1f)) total += info & 0xffff;
    }
    const typeIds = new Int32Array(total);
    const index = new Int32Array(total);
    let size = 16;
    while (size < total * 2) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    let e = 0;
    this.forEachEnumerator((i, j, nameOff) => {
      typeIds[e] = this.firstId + i;
      index[e] = j;
      let s = Btf.slot(this.nameHash(nameOff), 0, mask);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = ++e;
    });
    return { slots, typeIds, index };
  }

  private enumeratorAt(typeId: number, j: number): EnumeratorHit {
    const t = this.type(typeId);
    if (t.kind !== "enum" && t.kind !== "enum64") throw new BtfError("BTF: enumerator index corrupt");
    return { typeId, value: t.values[j].value };
  }

  private ownEnumerator(name: Uint8Array): EnumeratorHit | undefined {
    const w = this.words;
    if (!this.enumTable && ++this.enumScans > SCANS_BEFORE_INDEX) this.enumTable = this.buildEnumTable();
    const et = this.enumTable;
    if (et) {
      const mask = et.slots.length - 1;
      let best = -1;
      for (let s = Btf.slot(hashBytes(name), 0, mask); et.slots[s] !== 0; s = (s + 1) & mask) {
        const e = et.slots[s] - 1;
        const p = this.offsets[et.typeIds[e] - this.firstId];
        const stride = ((w[p + 1] >>> 24) & 0x1f) === BTF_KIND.ENUM ? 2 : 3;
        if (this.nameEquals(w[p + 3 + et.index[e] * stride], name) && (best < 0 || e < best)) best = e;
      }
      return best < 0 ? undefined : this.enumeratorAt(et.typeIds[best], et.index[best]);
    }
    let hit: EnumeratorHit | undefined;
    this.forEachEnumerator((i, j, nameOff) => {
      if (!this.nameEquals(nameOff, name)) return false;
      hit = this.enumeratorAt(this.firstId + i, j);
      return true;
    });
    return hit;
  }

  /** Value of a named enumerator (e.g. `TASK_COMM_LEN`) and the enum holding it; first match in id order. */
  enumValue(name: string): EnumeratorHit | undefined {
    if (name === "") return undefined;
    const bytes = encodeUtf8(name);
    return this.base?.enumValue(name) ?? this.ownEnumerator(bytes);
  }

  // ---- raw records (decoding itself is in materialize.ts) --------------------------------------------------------

  /** @internal The raw record of an INT type (for the older bitfield encoding), undefined when `id` is not an INT. */
  intRecord(id: number): { words: Uint32Array; p: number } | undefined {
    if (id === 0) return undefined;
    if (id < this.firstId && this.base) return this.base.intRecord(id);
    const p = this.offsets[id - this.firstId];
    if (((this.words[p + 1] >>> 24) & 0x1f) !== BTF_KIND.INT) return undefined;
    return { words: this.words, p };
  }

  // ---- helpers (see types.ts) --------------------------------------------------------------------------------

  resolve(t: number | BtfType): BtfType { return resolve(this, t); }
  /** Id after skipping typedef/const/volatile/restrict/type_tag. */
  resolveId(id: number): number { return resolve(this, id).id; }
  sizeof(t: number | BtfType): number { return sizeof(this, t); }
  alignof(t: number | BtfType): number { return alignof(this, t); }
  arrayInfo(t: number | BtfType): { elemType: number; count: number } { return arrayInfo(this, t); }
  findMember(t: number | BtfType, name: string): Member | undefined { return findMember(this, t, name); }
  typeToString(t: number | BtfType, declName = ""): string { return typeToString(this, t, declName); }
}
