/**
 * The BTF value codec: bytes <-> JS values for any BTF type, compiled once per (Btf, type id).
 *
 * Value mapping (decode; encode accepts the same forms):
 * - integers up to 32 bits -> number; 64 and 128 bits -> bigint; signedness from the BTF encoding
 * - bool -> boolean; float/double -> number; pointers -> bigint (the address)
 * - enums -> number (bigint for 8-byte enums); `enumName()` gives the enumerator's name. The encoder also
 *   accepts an enumerator name string.
 * - char arrays (element is a 1-byte INT with CHAR encoding or named char/signed char/unsigned char, seen through
 *   const/volatile only: `__u8 x[6]` stays a number array) -> string up to the first NUL, decoded as UTF-8
 *   (invalid bytes become U+FFFD; encode a Uint8Array when bytes must round-trip exactly)
 * - other arrays -> arrays; structs -> plain objects keyed by member name; unions -> objects with every member
 *   decoded; datasecs -> objects keyed by variable name
 * - members of anonymous struct/union members are merged into the parent object (C lets code name them as if
 *   they were the parent's), so `{ a; union { b; c; }; }` decodes to `{ a, b, c }`
 * - bitfields decode by their base type (a `u64 x:3` is a bigint); unnamed bitfields and padding are skipped
 * - types without a JS form (long double, half float) decode to a Uint8Array copy
 *
 * Encoding: missing (undefined) fields are 0, padding is zeroed, unknown fields and out-of-range or mistyped
 * values raise BtfError naming the field path (`inner.arr[2].x`). Any composite accepts a Uint8Array of exactly
 * its size as raw bytes. For unions every given member is written in member order; overlapping bytes end up
 * with the last one, which round-trips decoded unions exactly.
 */
import type { Btf } from "./btf.js";
import { CodecCompiler, type DecodeFn, type EncodeFn } from "./codec-gen.js";
import { BtfError, asBytes, type Bytes } from "./error.js";
import { alignof } from "./types.js";

export interface Layout {
  readonly size: number;
  readonly align: number;
}

export class Codec<T = unknown> {
  readonly typeId: number;
  readonly size: number;
  readonly align: number;
  private readonly dec: DecodeFn;
  private readonly enc: EncodeFn;
  // Views over the last ArrayBuffer decoded from: map iteration decodes from the same buffer again and again,
  // and a DataView per call would cost more than the decode itself. (This keeps that one buffer alive.)
  private lastBuffer: ArrayBufferLike | undefined;
  private dv: DataView | undefined;
  private u8: Uint8Array | undefined;

  constructor(typeId: number, size: number, align: number, dec: DecodeFn, enc: EncodeFn) {
    this.typeId = typeId;
    this.size = size;
    this.align = align;
    this.dec = dec;
    this.enc = enc;
  }

  private views(bytes: Uint8Array): void {
    const buf = bytes.buffer;
    if (buf !== this.lastBuffer) {
      this.lastBuffer = buf;
      this.dv = new DataView(buf);
      this.u8 = Buffer.from(buf) as unknown as Uint8Array;
    }
  }

  /** Decode the value at `offset` of `bytes` (which must hold at least `size` bytes from there). */
  decode(input: Bytes, offset = 0): T {
    const bytes = input as Uint8Array;
    if (!(offset >= 0 && offset + this.size <= bytes.length)) {
      throw new BtfError(`decode: need ${this.size} bytes at offset ${offset}, have ${bytes.length}`);
    }
    this.views(bytes);
    return this.dec(this.dv!, this.u8!, bytes.byteOffset + offset) as T;
  }

  /** Decode `count` values laid out every `stride` bytes (batch map operations). */
  decodeMany(input: Bytes, count: number, stride = this.size, offset = 0): T[] {
    const bytes = asBytes(input);
    if (count > 0 && !(offset >= 0 && stride >= this.size && offset + (count - 1) * stride + this.size <= bytes.length)) {
      throw new BtfError(`decodeMany: ${count} values of ${this.size} bytes (stride ${stride}) exceed ${bytes.length} bytes`);
    }
    this.views(bytes);
    const out = new Array<T>(count);
    const base = bytes.byteOffset + offset;
    for (let i = 0; i < count; i++) out[i] = this.dec(this.dv!, this.u8!, base + i * stride) as T;
    return out;
  }

  /** Encode into a new zero-initialized buffer of `size` bytes. */
  encode(value: T | Bytes): Uint8Array {
    const out = new Uint8Array(this.size);
    if (value instanceof Uint8Array && value.length === this.size) {
      out.set(value);
      return out;
    }
    this.enc(new DataView(out.buffer), out, 0, value, "", "");
    return out;
  }

  /** Encode into `target` at `offset` (the `size` bytes there are zeroed first). */
  encodeInto(value: T | Bytes, output: Bytes, offset = 0): void {
    const target = asBytes(output);
    if (!(offset >= 0 && offset + this.size <= target.length)) {
      throw new BtfError(`encodeInto: need ${this.size} bytes at offset ${offset}, have ${target.length}`);
    }
    target.fill(0, offset, offset + this.size);
    const u8 = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    this.enc(new DataView(target.buffer, target.byteOffset, target.byteLength), u8, offset, value, "", "");
  }
}

interface PerBtf {
  compiler: CodecCompiler;
  codecs: Map<number, Codec>;
  enumNames: Map<number, Map<number | bigint, string>>;
}

const perBtf = new WeakMap<Btf, PerBtf>();

function state(btf: Btf): PerBtf {
  let s = perBtf.get(btf);
  if (!s) {
    s = { compiler: new CodecCompiler(btf), codecs: new Map(), enumNames: new Map() };
    perBtf.set(btf, s);
  }
  return s;
}

/** The (cached) codec for a type id. Typedefs and modifiers share the codec of the type they name. */
export function codecFor<T = unknown>(btf: Btf, typeId: number): Codec<T> {
  const s = state(btf);
  let c = s.codecs.get(typeId);
  if (!c) {
    const dec = s.compiler.decoder(typeId);
    const enc = s.compiler.encoder(typeId);
    const size = s.compiler.size(typeId);
    c = new Codec(typeId, size, layoutAlign(btf, typeId), dec, enc);
    s.codecs.set(typeId, c);
  }
  return c as Codec<T>;
}

function layoutAlign(btf: Btf, typeId: number): number {
  const t = btf.resolve(typeId);
  return t.kind === "datasec" ? 1 : alignof(btf, t);
}

export function layoutOf(btf: Btf, typeId: number): Layout {
  return { size: btf.sizeof(typeId), align: layoutAlign(btf, typeId) };
}

export function decodeValue<T = unknown>(btf: Btf, typeId: number, bytes: Bytes, offset = 0): T {
  return codecFor<T>(btf, typeId).decode(bytes, offset);
}

export function encodeValue(btf: Btf, typeId: number, value: unknown): Uint8Array {
  return codecFor(btf, typeId).encode(value);
}

/** Name of the enumerator with this value in the enum `typeId` (through typedefs), or undefined. */
export function enumName(btf: Btf, typeId: number, value: number | bigint): string | undefined {
  const s = state(btf);
  let names = s.enumNames.get(typeId);
  if (!names) {
    const t = btf.resolve(typeId);
    if (t.kind !== "enum" && t.kind !== "enum64") throw new BtfError(`type ${typeId} is ${t.kind}, not an enum`);
    names = new Map();
    for (const v of t.values) {
      const key = typeof v.value === "bigint" ? v.value : BigInt(v.value);
      if (!names.has(key)) names.set(key, v.name);
    }
    s.enumNames.set(typeId, names);
  }
  if (typeof value === "number" && !Number.isInteger(value)) return undefined;
  return names.get(BigInt(value));
}
