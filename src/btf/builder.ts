/**
 * `BtfBuilder`: writes raw little-endian BTF. Used to describe types that exist only in JS (map keys/values the
 * dialect synthesizes) and by tests to produce exact inputs, including split BTF continuing a base.
 *
 * Each `add*` returns the new type id. Ids may be referenced before they are added (forward references), as in
 * real BTF; `build()` does not check them (the parser does).
 */
import type { Btf } from "./btf.js";
import { BtfError } from "./error.js";
import { BTF_KIND, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type Linkage } from "./types.js";

export interface BuilderMember {
  name: string;
  type: number;
  /** Bit offset from the start of the struct. */
  bitOffset: number;
  /** Bitfield width; any nonzero width makes the struct use the kind_flag member encoding. */
  bitfieldSize?: number;
}

const LINKAGE: Record<Linkage, number> = { static: 0, global: 1, extern: 2 };

export class BtfBuilder {
  private readonly words: number[] = [];
  private readonly strs: number[] = [];
  private readonly strIndex = new Map<string, number>();
  private readonly strBase: number;
  private nextId: number;
  private readonly enc = new TextEncoder();

  /** With `base`, builds split BTF whose ids and string offsets continue the base's. */
  constructor(base?: Btf) {
    this.strBase = base ? base.stringsEnd : 0;
    this.nextId = base ? base.length : 1;
    // Offset 0 is the empty string: our leading NUL, or the base's.
    if (!base) this.strs.push(0);
    this.strIndex.set("", 0);
  }

  /** Offset of `s` in the string section (added once). */
  str(s: string): number {
    let off = this.strIndex.get(s);
    if (off === undefined) {
      off = this.strBase + this.strs.length;
      for (const b of this.enc.encode(s)) this.strs.push(b);
      this.strs.push(0);
      this.strIndex.set(s, off);
    }
    return off;
  }

  private add(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[]): number {
    if (vlen > 0xffff) throw new BtfError("BtfBuilder: too many members");
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType >>> 0, ...extra.map((x) => x >>> 0));
    return this.nextId++;
  }

  int(name: string, size: number, opts: { signed?: boolean; char?: boolean; bool?: boolean; bits?: number; offset?: number } = {}): number {
    const enc = (opts.signed ? BTF_INT_SIGNED : 0) | (opts.char ? BTF_INT_CHAR : 0) | (opts.bool ? BTF_INT_BOOL : 0);
    return this.add(name, BTF_KIND.INT, 0, false, size, [(enc << 24) | ((opts.offset ?? 0) << 16) | (opts.bits ?? size * 8)]);
  }
  ptr(type: number): number { return this.add("", BTF_KIND.PTR, 0, false, type, []); }
  array(elem: number, nelems: number, indexType = 0): number { return this.add("", BTF_KIND.ARRAY, 0, false, 0, [elem, indexType, nelems]); }
  struct(name: string, size: number, members: BuilderMember[]): number { return this.composite(BTF_KIND.STRUCT, name, size, members); }
  union(name: string, size: number, members: BuilderMember[]): number { return this.composite(BTF_KIND.UNION, name, size, members); }

  private composite(kind: number, name: string, size: number, members: BuilderMember[]): number {
    const kflag = members.some((m) => (m.bitfieldSize ?? 0) > 0);
    const extra: number[] = [];
    for (const m of members) {
      const bits = m.bitfieldSize ?? 0;
      if (kflag && (m.bitOffset > 0xffffff || bits > 0xff)) throw new BtfError("BtfBuilder: bitfield offset/size out of range");
      extra.push(this.str(m.name), m.type, kflag ? (bits << 24) | m.bitOffset : m.bitOffset);
    }
    return this.add(name, kind, members.length, kflag, size, extra);
  }

  enum(name: string, size: number, values: [string, number][], signed = false): number {
    const extra: number[] = [];
    for (const [n, v] of values) extra.push(this.str(n), v);
    return this.add(name, BTF_KIND.ENUM, values.length, signed, size, extra);
  }
  enum64(name: string, size: number, values: [string, bigint][], signed = false): number {
    const extra: number[] = [];
    for (const [n, v] of values) {
      const u = BigInt.asUintN(64, v);
      extra.push(this.str(n), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.add(name, BTF_KIND.ENUM64, values.length, signed, size, extra);
  }
  fwd(name: string, union = false): number { return this.add(name, BTF_KIND.FWD, 0, union, 0, []); }
  typedef(name: string, type: number): number { return this.add(name, BTF_KIND.TYPEDEF, 0, false, type, []); }
  volatile(type: number): number { return this.add("", BTF_KIND.VOLATILE, 0, false, type, []); }
  const(type: number): number { return this.add("", BTF_KIND.CONST, 0, false, type, []); }
  restrict(type: number): number { return this.add("", BTF_KIND.RESTRICT, 0, false, type, []); }
  typeTag(value: string, type: number): number { return this.add(value, BTF_KIND.TYPE_TAG, 0, false, type, []); }
  func(name: string, proto: number, linkage: Linkage = "global"): number { return this.add(name, BTF_KIND.FUNC, LINKAGE[linkage], false, proto, []); }
  funcProto(returnType: number, params: { name: string; type: number }[], variadic = false): number {
    const extra: number[] = [];
    for (const p of params) extra.push(this.str(p.name), p.type);
    if (variadic) extra.push(0, 0);
    return this.add("", BTF_KIND.FUNC_PROTO, params.length + (variadic ? 1 : 0), false, returnType, extra);
  }
  var(name: string, type: number, linkage: Linkage = "global"): number { return this.add(name, BTF_KIND.VAR, 0, false, type, [LINKAGE[linkage]]); }
  datasec(name: string, size: number, vars: { type: number; offset: number; size: number }[]): number {
    const extra: number[] = [];
    for (const v of vars) extra.push(v.type, v.offset, v.size);
    return this.add(name, BTF_KIND.DATASEC, vars.length, false, size, extra);
  }
  float(name: string, size: number): number { return this.add(name, BTF_KIND.FLOAT, 0, false, size, []); }
  declTag(value: string, type: number, componentIdx = -1): number { return this.add(value, BTF_KIND.DECL_TAG, 0, false, type, [componentIdx]); }

  /** The raw BTF: 24-byte header, types, strings. */
  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strs.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    dv.setUint32(4, 24, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, this.strs.length, true);
    this.words.forEach((w, i) => dv.setUint32(24 + i * 4, w, true));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}
