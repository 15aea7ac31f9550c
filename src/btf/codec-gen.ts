/**
 * Code generation for the BTF value codec: one specialized decoder and encoder function per composite type,
 * built with `new Function` over a DataView and a byte view.
 *
 * Safety of the generated source: it contains only numbers computed here, fixed helper names, and member names
 * passed through JSON.stringify (a valid, fully escaped JS string literal). Nothing from BTF is ever spliced in
 * as an identifier. Types are walked with a recursion guard, and every field is bounds-checked against its
 * parent's size at compile time, so a decoder never reads outside the `size` bytes the caller checked.
 */
import type { Btf } from "./btf.js";
import { H } from "./codec-runtime.js";
import { BtfError } from "./error.js";
import { MAX_ANON_VISITS, isCharInt, type BtfType, type Member } from "./types.js";

/** Decoder: (view over the whole ArrayBuffer, byte view, absolute offset) -> value. */
export type DecodeFn = (dv: DataView, u8: Uint8Array, o: number) => unknown;
/** Encoder: writes `v` into zeroed bytes at absolute offset `o`; `p`/`k` name the value for errors. */
export type EncodeFn = (dv: DataView, u8: Uint8Array, o: number, v: unknown, p: string, k: string | number) => void;

const MAX_SIZE = 0x7fffffff;
const MAX_DEPTH = 256;
/** Arrays up to this many scalar elements are unrolled into an array literal. */
const UNROLL = 8;

/** A value the codec reads directly from bytes (no sub-function). */
interface Leaf {
  form: "int" | "bool" | "float" | "enum" | "raw";
  size: number;
  signed: boolean;
  /** For enums: enumerator names -> values (for the encoder). */
  names?: Map<string, number | bigint>;
}

/** A struct/union/datasec field after merging anonymous members. */
interface Field {
  name: string;
  type: number;
  bitOffset: number;
  bitfieldSize: number;
}

const str = (s: string): string => JSON.stringify(s);

function isBig(l: Leaf): boolean {
  return l.size >= 8 && l.form !== "float" && l.form !== "raw";
}

function intRange(size: number, signed: boolean): [string, string] {
  if (size >= 8) {
    const bits = BigInt(size * 8);
    return signed ? [`${-(1n << (bits - 1n))}n`, `${(1n << (bits - 1n)) - 1n}n`] : ["0n", `${(1n << bits) - 1n}n`];
  }
  const bits = size * 8;
  return signed ? [`${-(2 ** (bits - 1))}`, `${2 ** (bits - 1) - 1}`] : ["0", `${2 ** bits - 1}`];
}

export class CodecCompiler {
  private readonly dec = new Map<number, DecodeFn>();
  private readonly enc = new Map<number, EncodeFn>();
  private readonly busy = new Set<string>();
  private depth = 0;

  /** Scalars work through DataView in either order, but bitfield bit numbering differs: refused, not guessed. */
  private readonly bigEndian: boolean;

  constructor(readonly btf: Btf) {
    this.bigEndian = !btf.littleEndian;
  }

  /** Strip typedef/const/volatile/restrict/type_tag and VAR. */
  private strip(id: number): BtfType {
    let t = this.btf.resolve(id);
    if (t.kind === "var") t = this.btf.resolve(t.type);
    return t;
  }

  private what(t: BtfType): string {
    return t.name ? `${t.kind} ${t.name}` : `anonymous ${t.kind} (id ${t.id})`;
  }

  /** Size in bytes, bounded so the codec can allocate it. */
  size(id: number): number {
    const s = this.btf.sizeof(id);
    if (!Number.isSafeInteger(s) || s > MAX_SIZE) throw new BtfError(`type ${id}: size ${s} too large for the codec`);
    return s;
  }

  private leaf(t: BtfType): Leaf | undefined {
    switch (t.kind) {
      case "int":
        if (t.bool) return { form: "bool", size: t.size, signed: false };
        return { form: "int", size: t.size, signed: t.signed };
      case "enum": case "enum64": {
        const names = new Map<string, number | bigint>();
        const big = t.size >= 8;
        for (const v of t.values) if (!names.has(v.name)) names.set(v.name, big ? BigInt(v.value) : Number(v.value));
        if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) throw new BtfError(`${this.what(t)}: bad enum size ${t.size}`);
        return { form: "enum", size: t.size, signed: t.signed, names };
      }
      case "ptr":
        return { form: "int", size: 8, signed: false };
      case "float":
        return t.size === 4 || t.size === 8 ? { form: "float", size: t.size, signed: true } : { form: "raw", size: t.size, signed: false };
      default:
        return undefined;
    }
  }

  /** Char arrays become strings: element (through const/volatile only, not typedefs like __u8) is a char INT. */
  private isCharArray(t: BtfType): boolean {
    if (t.kind !== "array") return false;
    let e = this.btf.type(t.type);
    for (let hops = 0; (e.kind === "const" || e.kind === "volatile") && hops < 16; hops++) e = this.btf.type(e.type);
    return isCharInt(e);
  }

  /** Fields of a struct/union/datasec with anonymous struct/union members merged, checked against `size`. */
  private fields(t: BtfType, size: number): Field[] {
    const out: Field[] = [];
    const seen = new Set<string>();
    let visits = 0;
    const add = (members: readonly Member[], base: number, depth: number): void => {
      if (depth > MAX_DEPTH || ++visits > MAX_ANON_VISITS) throw new BtfError(`${this.what(t)}: anonymous members nest too deep`);
      for (const m of members) {
        const bitOffset = base + m.bitOffset;
        if (m.name === "") {
          const inner = this.strip(m.type);
          if (m.bitfieldSize === 0 && (inner.kind === "struct" || inner.kind === "union")) {
            if (bitOffset % 8 !== 0) throw new BtfError(`${this.what(t)}: anonymous member at bit ${bitOffset}`);
            if (bitOffset / 8 + inner.size > size) throw new BtfError(`${this.what(t)}: anonymous member exceeds the type`);
            add(inner.members, bitOffset, depth + 1);
          }
          continue; // unnamed bitfields are padding
        }
        if (seen.has(m.name)) throw new BtfError(`${this.what(t)}: duplicate field "${m.name}" after merging anonymous members`);
        seen.add(m.name);
        out.push({ name: m.name, type: m.type, bitOffset, bitfieldSize: m.bitfieldSize });
      }
    };
    if (t.kind === "datasec") {
      add(t.vars.map((v) => ({ name: this.btf.nameOf(v.type), type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 })), 0, 0);
    } else if (t.kind === "struct" || t.kind === "union") {
      add(t.members, 0, 0);
    }
    for (const f of out) {
      if (f.bitfieldSize > 0) {
        if (f.bitOffset + f.bitfieldSize > size * 8) throw new BtfError(`${this.what(t)}: bitfield "${f.name}" exceeds the type`);
        continue;
      }
      if (f.bitOffset % 8 !== 0) throw new BtfError(`${this.what(t)}: field "${f.name}" at bit ${f.bitOffset} is not byte-aligned`);
      if (f.bitOffset / 8 + this.size(f.type) > size) throw new BtfError(`${this.what(t)}: field "${f.name}" exceeds the type's ${size} bytes`);
    }
    return out;
  }

  /** Zero-size elements make an array's byte size say nothing about its element count; bound it. */
  private checkCount(t: BtfType & { nelems: number }, elemSize: number): number {
    if (elemSize === 0 && t.nelems > 0x10000) throw new BtfError(`${this.what(t)}: ${t.nelems} zero-size elements`);
    return t.nelems;
  }

  private enter(kind: "d" | "e", id: number): void {
    const key = kind + id;
    if (this.busy.has(key) || this.depth > MAX_DEPTH) throw new BtfError(`type ${id}: recursive or too deeply nested type`);
    this.busy.add(key);
    this.depth++;
  }

  private leave(kind: "d" | "e", id: number): void {
    this.busy.delete(kind + id);
    this.depth--;
  }

  private build<F>(params: string[], args: unknown[], body: string): F {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function("H", "LE", ...params, `"use strict";\nreturn ${body};`) as (...a: unknown[]) => F;
    return factory(H, this.btf.littleEndian, ...args);
  }

  // ---- decoder ---------------------------------------------------------------------------------------------

  decoder(id: number): DecodeFn {
    const t = this.strip(id);
    const cached = this.dec.get(t.id);
    if (cached) return cached;
    this.enter("d", t.id);
    try {
      const subs: unknown[] = [];
      const body = this.decBody(t, subs);
      const params = subs.map((_, i) => `f${i}`);
      const fn = this.build<DecodeFn>(params, subs, `function decode_${t.id}(dv, u8, o) {\n${body}\n}`);
      this.dec.set(t.id, fn);
      return fn;
    } finally {
      this.leave("d", t.id);
    }
  }

  /** Body of the function for `t` itself: composites are expanded here, everything else is one expression. */
  private decBody(t: BtfType, subs: unknown[]): string {
    if (t.kind === "struct" || t.kind === "union" || t.kind === "datasec") {
      const fields = this.fields(t, t.size);
      const parts = fields.map((f) => `${f.name === "__proto__" ? `[${str(f.name)}]` : str(f.name)}: ${this.fieldDec(f, subs)}`);
      return `return {${parts.length ? "\n  " + parts.join(",\n  ") + "\n" : ""}};`;
    }
    if (t.kind === "array" && !this.isCharArray(t)) {
      const elem = this.strip(t.type);
      const es = this.size(t.type);
      const n = this.checkCount(t, es);
      if (n <= UNROLL && this.leaf(elem)) {
        const items = [];
        for (let i = 0; i < n; i++) items.push(this.decExpr(t.type, `o + ${i * es}`, subs));
        return `return [${items.join(", ")}];`;
      }
      return `const a = new Array(${n});\nfor (let i = 0; i < ${n}; i++) a[i] = ${this.decExpr(t.type, `o + i * ${es}`, subs)};\nreturn a;`;
    }
    return `return ${this.decExpr(t.id, "o", subs)};`;
  }

  private fieldDec(f: Field, subs: unknown[]): string {
    const at = f.bitOffset >>> 3;
    if (f.bitfieldSize === 0) return this.decExpr(f.type, at ? `o + ${at}` : "o", subs);
    return this.bitfieldDec(f);
  }

  /** Expression decoding type `id` at offset expression `o`; composites call their own compiled function. */
  private decExpr(id: number, o: string, subs: unknown[]): string {
    const t = this.strip(id);
    const l = this.leaf(t);
    if (l) return this.leafDec(l, o);
    if (t.kind === "array" && this.isCharArray(t)) return `H.str(u8, ${o}, ${t.nelems})`;
    if (t.kind === "struct" || t.kind === "union" || t.kind === "array" || t.kind === "datasec") {
      this.size(t.id);
      subs.push(this.decoder(t.id));
      return `f${subs.length - 1}(dv, u8, ${o})`;
    }
    throw new BtfError(`cannot decode ${this.what(t)}: it has no value representation`);
  }

  private leafDec(l: Leaf, o: string): string {
    switch (l.form) {
      case "float": return l.size === 4 ? `dv.getFloat32(${o}, LE)` : `dv.getFloat64(${o}, LE)`;
      case "raw": return `H.raw(u8, ${o}, ${l.size})`;
      case "bool": {
        const v = this.leafDec({ form: "int", size: l.size, signed: false }, o);
        return l.size >= 8 ? `(${v} !== 0n)` : `(${v} !== 0)`;
      }
      default:
        switch (l.size) {
          case 1: return l.signed ? `dv.getInt8(${o})` : `u8[${o}]`;
          case 2: return `dv.get${l.signed ? "Int" : "Uint"}16(${o}, LE)`;
          case 4: return `dv.get${l.signed ? "Int" : "Uint"}32(${o}, LE)`;
          case 8: return `dv.getBig${l.signed ? "Int" : "Uint"}64(${o}, LE)`;
          case 16: return `H.i128(dv, ${o}, LE, ${l.signed})`;
          default: throw new BtfError(`unsupported integer size ${l.size}`);
        }
    }
  }

  private bitfieldLeaf(f: Field): Leaf {
    const t = this.strip(f.type);
    const l = this.leaf(t);
    if (!l || (l.form !== "int" && l.form !== "enum" && l.form !== "bool")) {
      throw new BtfError(`bitfield "${f.name}" has non-integer type ${this.what(t)}`);
    }
    if (f.bitfieldSize > l.size * 8 || f.bitfieldSize > 64) throw new BtfError(`bitfield "${f.name}" is wider than its type`);
    if (this.bigEndian) throw new BtfError(`bitfield "${f.name}": big-endian bitfields are not supported`);
    return l;
  }

  private bitfieldDec(f: Field): string {
    const l = this.bitfieldLeaf(f);
    const n = f.bitfieldSize;
    const a = f.bitOffset >>> 3;
    const sh = f.bitOffset & 7;
    const nbytes = (sh + n + 7) >>> 3;
    let e: string;
    if (sh + n <= 32) {
      const terms = [];
      for (let k = 0; k < nbytes; k++) terms.push(k === 0 ? `u8[o + ${a}]` : `(u8[o + ${a + k}] << ${8 * k})`);
      const w = `(${terms.join(" | ")})`;
      if (l.signed && l.form !== "bool") e = `((${w} << ${32 - sh - n}) >> ${32 - n})`;
      else e = n === 32 ? `(${w} >>> 0)` : `((${w} >>> ${sh}) & ${2 ** n - 1})`;
      if (isBig(l) && l.form !== "bool") e = `BigInt(${e})`;
    } else {
      const fn = isBig(l) && l.form !== "bool" ? "bitsBig" : "bitsNum";
      e = `H.${fn}(u8, o + ${a}, ${nbytes}, ${sh}, ${n}, ${l.signed && l.form !== "bool"})`;
    }
    return l.form === "bool" ? `(${e} != 0)` : e;
  }

  // ---- encoder ---------------------------------------------------------------------------------------------

  encoder(id: number): EncodeFn {
    const t = this.strip(id);
    const cached = this.enc.get(t.id);
    if (cached) return cached;
    this.enter("e", t.id);
    try {
      const consts: unknown[] = [];
      const body = this.encBody(t, consts);
      const params = consts.map((_, i) => `c${i}`);
      const fn = this.build<EncodeFn>(params, consts, `function encode_${t.id}(dv, u8, o, v, p, k) {\n${body}\n}`);
      this.enc.set(t.id, fn);
      return fn;
    } finally {
      this.leave("e", t.id);
    }
  }

  private konst(consts: unknown[], v: unknown): string {
    consts.push(v);
    return `c${consts.length - 1}`;
  }

  private encBody(t: BtfType, consts: unknown[]): string {
    const what = str(this.what(t));
    if (t.kind === "struct" || t.kind === "union" || t.kind === "datasec") {
      const fields = this.fields(t, t.size);
      const allowed = this.konst(consts, new Set(fields.map((f) => f.name)));
      const lines = [
        "if (v === undefined) return;",
        `if (v instanceof Uint8Array) { H.rawInto(u8, o, ${t.size}, v, p, k); return; }`,
        `H.obj(v, p, k, ${what});`,
        "const q = H.path(p, k);",
        "let n = 0, x;",
      ];
      for (const f of fields) {
        const get = f.name in Object.prototype ? `H.own(v, ${str(f.name)})` : `v[${str(f.name)}]`;
        lines.push(`x = ${get};`, `if (x !== undefined) {`, "  n++;", `  ${this.fieldEnc(f, consts, "q", str(f.name))}`, "}");
      }
      lines.push(`if (n !== H.keyCount(v)) H.extra(v, ${allowed}, p, k, ${what});`);
      return lines.join("\n");
    }
    if (t.kind === "array" && !this.isCharArray(t)) {
      const es = this.size(t.type);
      this.checkCount(t, es);
      const size = es * t.nelems;
      const elemIsByte = es === 1;
      return [
        "if (v === undefined) return;",
        `if (v instanceof Uint8Array && (v.length === ${size} || !${elemIsByte})) { H.rawInto(u8, o, ${size}, v, p, k); return; }`,
        `if (!Array.isArray(v) && !ArrayBuffer.isView(v)) H.fail(p, k, "expected an array for " + ${what});`,
        `if (v.length > ${t.nelems}) H.fail(p, k, v.length + " elements do not fit in " + ${what} + " of ${t.nelems}");`,
        "const q = H.path(p, k);",
        "for (let i = 0; i < v.length; i++) {",
        "  const x = v[i];",
        `  if (x !== undefined) { ${this.valueEnc(t.type, `o + i * ${es}`, consts, "q", "i")} }`,
        "}",
      ].join("\n");
    }
    return `const x = v;\nif (x !== undefined) { ${this.valueEnc(t.id, "o", consts, "p", "k")} }`;
  }

  private fieldEnc(f: Field, consts: unknown[], p: string, k: string): string {
    const at = f.bitOffset >>> 3;
    if (f.bitfieldSize === 0) return this.valueEnc(f.type, at ? `o + ${at}` : "o", consts, p, k);
    const l = this.bitfieldLeaf(f);
    const n = f.bitfieldSize;
    const sh = f.bitOffset & 7;
    const lim = l.signed && l.form !== "bool"
      ? [-(2n ** BigInt(n - 1)), 2n ** BigInt(n - 1) - 1n]
      : [0n, 2n ** BigInt(n) - 1n];
    let val: string;
    if (l.form === "bool") val = `H.bool(x, ${p}, ${k})`;
    else if (l.form === "enum") val = `H.enumv(x, ${p}, ${k}, ${this.konst(consts, l.names)}, ${lim[0]}n, ${lim[1]}n)`;
    else val = `H.big(x, ${p}, ${k}, ${lim[0]}n, ${lim[1]}n)`;
    if (sh + n <= 32 && l.form !== "bool") {
      // Range-checked as bigint, then spread over bytes as a 32-bit number.
      const mask = n === 32 ? "0xffffffff" : `${2 ** n - 1}`;
      const nbytes = (sh + n + 7) >>> 3;
      const writes = [];
      for (let b = 0; b < nbytes; b++) writes.push(`u8[o + ${at + b}] |= ${b === 0 ? "w" : `w >>> ${8 * b}`} & 255;`);
      return `{ const w = (Number(${val}) & ${mask}) << ${sh}; ${writes.join(" ")} }`;
    }
    return `H.setBits(u8, o + ${at}, ${sh}, ${n}, ${val});`;
  }

  /** Statement writing `x` (type `id`) at offset expression `o`. */
  private valueEnc(id: number, o: string, consts: unknown[], p: string, k: string): string {
    const t = this.strip(id);
    const l = this.leaf(t);
    if (l) return this.leafEnc(l, o, consts, p, k);
    if (t.kind === "array" && this.isCharArray(t)) return `H.chars(u8, ${o}, ${t.nelems}, x, ${p}, ${k});`;
    if (t.kind === "struct" || t.kind === "union" || t.kind === "array" || t.kind === "datasec") {
      this.size(t.id);
      const f = this.konst(consts, this.encoder(t.id));
      return `${f}(dv, u8, ${o}, x, ${p}, ${k});`;
    }
    throw new BtfError(`cannot encode ${this.what(t)}: it has no value representation`);
  }

  private leafEnc(l: Leaf, o: string, consts: unknown[], p: string, k: string): string {
    let val: string;
    // Only integer forms have a range; raw floats may have any size.
    const [lo, hi] = l.form === "float" || l.form === "raw" ? ["0", "0"] : intRange(l.size, l.signed);
    switch (l.form) {
      case "float":
        return `dv.setFloat${l.size * 8}(${o}, H.float(x, ${p}, ${k}), LE);`;
      case "raw":
        return `if (!(x instanceof Uint8Array)) H.fail(${p}, ${k}, "expected ${l.size} raw bytes"); H.rawInto(u8, ${o}, ${l.size}, x, ${p}, ${k});`;
      case "bool":
        val = l.size >= 8 ? `BigInt(H.bool(x, ${p}, ${k}))` : `H.bool(x, ${p}, ${k})`;
        break;
      case "enum":
        val = `H.enumv(x, ${p}, ${k}, ${this.konst(consts, l.names)}, ${lo}, ${hi})`;
        break;
      default:
        val = l.size >= 8 ? `H.big(x, ${p}, ${k}, ${lo}, ${hi})` : `H.int(x, ${p}, ${k}, ${lo}, ${hi})`;
    }
    switch (l.size) {
      case 1: return `u8[${o}] = ${val};`;
      case 2: return `dv.set${l.signed ? "Int" : "Uint"}16(${o}, ${val}, LE);`;
      case 4: return `dv.set${l.signed ? "Int" : "Uint"}32(${o}, ${val}, LE);`;
      case 8: return `dv.setBig${l.signed ? "Int" : "Uint"}64(${o}, ${val}, LE);`;
      case 16: return `H.set128(dv, ${o}, LE, ${val});`;
      default: throw new BtfError(`unsupported integer size ${l.size}`);
    }
  }
}
