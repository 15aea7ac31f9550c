/**
 * Helpers called by the generated codec functions (codec-gen.ts). Everything that is not a plain DataView or
 * byte access lives here: string decoding, wide and odd-width integers, value validation with error paths.
 *
 * Byte views handed to generated code are Node Buffers over the caller's ArrayBuffer, so string slicing can use
 * Buffer's native decoders.
 */
import { BtfError } from "./error.js";

type Key = string | number;
/** Node's Buffer has native `utf8Slice` (undocumented in @types/node); decoders always get a Buffer view. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/** "a.b", "a[3]", or the key alone at the top. Only called when building an error or a nested path. */
export function path(p: string, k: Key): string {
  if (typeof k === "number") return `${p}[${k}]`;
  if (k === "") return p;
  return p === "" ? k : `${p}.${k}`;
}

function fail(p: string, k: Key, msg: string): never {
  const where = path(p, k);
  throw new BtfError(where === "" ? `value: ${msg}` : `field "${where}": ${msg}`);
}

function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "an array" : "an object";
}

const utf8Encoder = new TextEncoder();
const fromCharCode = String.fromCharCode;

export const H = {
  path,
  fail,

  // ---- decoding --------------------------------------------------------------------------------------------

  /** C string in a char[n] at o: bytes up to the first NUL (or all n), decoded as UTF-8. */
  str(u8: Uint8Array, o: number, n: number): string {
    const end = o + n;
    let e = o;
    let high = 0;
    while (e < end) {
      const b = u8[e];
      if (b === 0) break;
      high |= b;
      e++;
    }
    if (e === o) return "";
    if (high >= 0x80) return (u8 as unknown as NodeBuffer).utf8Slice(o, e);
    // ASCII (comm, most paths): building in JS beats the native call for short strings, 4 chars at a time.
    let s = "";
    let i = o;
    for (; i + 4 <= e; i += 4) s += fromCharCode(u8[i], u8[i + 1], u8[i + 2], u8[i + 3]);
    for (; i < e; i++) s += fromCharCode(u8[i]);
    return s;
  },

  /** Copy of n raw bytes (types the codec has no JS form for, e.g. long double). */
  raw(u8: Uint8Array, o: number, n: number): Uint8Array {
    // A plain Uint8Array, not a Buffer (the view handed to decoders is a Buffer).
    const out = new Uint8Array(n);
    out.set(u8.subarray(o, o + n));
    return out;
  },

  i128(dv: DataView, o: number, le: boolean, signed: boolean): bigint {
    const lo = dv.getBigUint64(le ? o : o + 8, le);
    const hi = dv.getBigUint64(le ? o + 8 : o, le);
    const v = (hi << 64n) | lo;
    return signed ? BigInt.asIntN(128, v) : v;
  },

  /** Bitfield that crosses a 32-bit window (odd offsets in packed structs): read through bigint. */
  bitsBig(u8: Uint8Array, a: number, nbytes: number, sh: number, n: number, signed: boolean): bigint {
    let w = 0n;
    for (let k = nbytes - 1; k >= 0; k--) w = (w << 8n) | BigInt(u8[a + k]);
    const v = BigInt.asUintN(n, w >> BigInt(sh));
    return signed ? BigInt.asIntN(n, v) : v;
  },

  bitsNum(u8: Uint8Array, a: number, nbytes: number, sh: number, n: number, signed: boolean): number {
    return Number(H.bitsBig(u8, a, nbytes, sh, n, signed));
  },

  // ---- encoding --------------------------------------------------------------------------------------------

  /** Integer that fits in a JS number range [lo, hi]; accepts number, bigint, boolean; undefined means 0. */
  int(x: unknown, p: string, k: Key, lo: number, hi: number): number {
    if (typeof x === "number") {
      if (Number.isInteger(x) && x >= lo && x <= hi) return x;
      if (!Number.isInteger(x)) fail(p, k, `${show(x)} is not an integer`);
    } else if (typeof x === "bigint") {
      if (x >= BigInt(lo) && x <= BigInt(hi)) return Number(x);
    } else if (typeof x === "boolean") {
      return x ? 1 : 0;
    } else if (x === undefined) {
      return 0;
    } else {
      fail(p, k, `expected an integer, got ${show(x)}`);
    }
    return fail(p, k, `${show(x)} is out of range [${lo}, ${hi}]`);
  },

  /** 64/128-bit integer in [lo, hi]; accepts bigint or a safe-integer number. */
  big(x: unknown, p: string, k: Key, lo: bigint, hi: bigint): bigint {
    let v: bigint;
    if (typeof x === "bigint") v = x;
    else if (typeof x === "number") {
      if (!Number.isSafeInteger(x)) fail(p, k, `${show(x)} is not a safe integer (use a bigint)`);
      v = BigInt(x);
    } else if (typeof x === "boolean") v = x ? 1n : 0n;
    else if (x === undefined) return 0n;
    else return fail(p, k, `expected an integer, got ${show(x)}`);
    if (v < lo || v > hi) fail(p, k, `${show(x)} is out of range [${lo}, ${hi}]`);
    return v;
  },

  bool(x: unknown, p: string, k: Key): number {
    if (typeof x === "boolean") return x ? 1 : 0;
    if (x === undefined || x === 0 || x === 0n) return 0;
    if (x === 1 || x === 1n) return 1;
    return fail(p, k, `expected a boolean, got ${show(x)}`);
  },

  float(x: unknown, p: string, k: Key): number {
    if (typeof x === "number") return x;
    if (x === undefined) return 0;
    if (typeof x === "bigint") return Number(x);
    return fail(p, k, `expected a number, got ${show(x)}`);
  },

  /** Enum value: a number/bigint in range or an enumerator name. Returns number or bigint like `int`/`big`. */
  enumv(x: unknown, p: string, k: Key, names: ReadonlyMap<string, number | bigint>, lo: number | bigint, hi: number | bigint): number | bigint {
    if (typeof x === "string") {
      const v = names.get(x);
      if (v === undefined) fail(p, k, `${show(x)} is not an enumerator of this enum`);
      x = v;
    }
    return typeof lo === "bigint" ? H.big(x, p, k, lo, hi as bigint) : H.int(x, p, k, lo, hi as number);
  },

  set128(dv: DataView, o: number, le: boolean, v: bigint): void {
    const u = BigInt.asUintN(128, v);
    dv.setBigUint64(le ? o : o + 8, u & 0xffffffffffffffffn, le);
    dv.setBigUint64(le ? o + 8 : o, u >> 64n, le);
  },

  /** OR an n-bit value into a zeroed bitfield slot (little-endian bit order). `v` is already range-checked. */
  setBits(u8: Uint8Array, a: number, sh: number, n: number, v: number | bigint): void {
    let w = BigInt.asUintN(n, BigInt(v)) << BigInt(sh);
    for (let k = 0; w !== 0n; k++, w >>= 8n) u8[a + k] |= Number(w & 0xffn);
  },

  /** char[n] from a string (UTF-8, at most n bytes), a Uint8Array (at most n bytes) or an array of byte values. */
  chars(u8: Uint8Array, o: number, n: number, x: unknown, p: string, k: Key): void {
    if (x === undefined) return;
    if (typeof x === "string") {
      const dst = u8.subarray(o, o + n);
      const r = utf8Encoder.encodeInto(x, dst);
      if (r.read !== x.length) fail(p, k, `string of ${utf8Encoder.encode(x).length} bytes does not fit in char[${n}]`);
      return;
    }
    if (x instanceof Uint8Array) {
      if (x.length > n) fail(p, k, `${x.length} bytes do not fit in char[${n}]`);
      u8.set(x, o);
      return;
    }
    if (Array.isArray(x)) {
      if (x.length > n) fail(p, k, `${x.length} elements do not fit in char[${n}]`);
      for (let i = 0; i < x.length; i++) u8[o + i] = H.int(x[i], path(p, k), i, -128, 255);
      return;
    }
    fail(p, k, `expected a string or Uint8Array for char[${n}], got ${show(x)}`);
  },

  /** Raw bytes of exactly the type's size. */
  rawInto(u8: Uint8Array, o: number, size: number, x: Uint8Array, p: string, k: Key): void {
    if (x.length !== size) fail(p, k, `raw bytes must be exactly ${size} bytes, got ${x.length}`);
    u8.set(x, o);
  },

  /** Throws for a value that is not a plain object (structs and unions). */
  obj(x: unknown, p: string, k: Key, what: string): void {
    if (typeof x !== "object" || x === null || Array.isArray(x) || ArrayBuffer.isView(x)) {
      fail(p, k, `expected an object for ${what}, got ${show(x)}`);
    }
  },

  /** Property only if own (member names like "constructor" must not pick up Object.prototype). */
  own(v: object, name: string): unknown {
    return Object.prototype.hasOwnProperty.call(v, name) ? (v as Record<string, unknown>)[name] : undefined;
  },

  keyCount(v: object): number {
    return Object.keys(v).length;
  },

  /** Called when a struct value has more keys than were consumed: name the first unknown one. */
  extra(v: object, allowed: ReadonlySet<string>, p: string, k: Key, what: string): void {
    for (const key of Object.keys(v)) {
      if (!allowed.has(key)) fail(path(p, k), key, `no such field in ${what}`);
    }
  },
};

export type Helpers = typeof H;
