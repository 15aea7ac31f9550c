// Key/value codecs for tables: bytes <-> JavaScript values for one fixed-size C type.
//
// Tables only ever see this small interface. A codec comes either from BTF (see codec-btf.ts, a thin
// adapter over src/btf) or, for maps without BTF, from the raw fallbacks here: 4-byte slots decode to
// numbers, 8-byte slots to bigints, anything else to a copy of the bytes.
import { CodecError, describeValue } from "./errors.js";

export interface KeyValueCodec<T = unknown> {
  /** Byte size of one encoded value. */
  readonly size: number;
  /** The C type as a reader would spell it ("struct key_t", "u64"), for error messages. */
  readonly cType?: string;
  /** Decodes `size` bytes at `offset`. Must not keep a reference to `bytes` (it is reused). */
  decode(bytes: Uint8Array, offset: number): T;
  /**
   * Writes `size` bytes at `offset`. `out` is zeroed beforehand, so padding may be skipped. Throws (any error;
   * CodecError preferred) when the value does not fit the type.
   */
  encode(value: T, out: Uint8Array, offset: number): void;
}

// One cached DataView: batch decoding walks one buffer thousands of times in a row.
let lastBytes: ArrayBufferLike | undefined;
let lastView: DataView | undefined;
export function viewOf(bytes: Uint8Array): DataView {
  if (bytes.buffer !== lastBytes) {
    lastBytes = bytes.buffer;
    lastView = new DataView(bytes.buffer);
  }
  return lastView!;
}

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);

function intCodecError(cType: string, value: unknown, why: string): CodecError {
  return new CodecError(`${cType}: ${why}, got ${describeValue(value)}`);
}

/** An unsigned 32-bit slot as a number. Negative numbers down to -2^31 are stored as their two's complement. */
export function u32Codec(cType = "u32"): KeyValueCodec<number> {
  return {
    size: 4,
    cType,
    decode(b, o) {
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    },
    encode(v, out, o) {
      const n = typeof v === "bigint" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n)) throw intCodecError(cType, v, "not an integer");
      if (n > U32_MAX || n < -0x8000_0000) throw intCodecError(cType, v, "out of range for 32 bits");
      viewOf(out).setUint32(out.byteOffset + o, n >>> 0, true);
    },
  };
}

/** A 64-bit slot as a bigint (unsigned on decode); numbers are accepted on encode when they are safe integers. */
export function u64Codec(cType = "u64"): KeyValueCodec<bigint> {
  return {
    size: 8,
    cType,
    decode(b, o) {
      return viewOf(b).getBigUint64(b.byteOffset + o, true);
    },
    encode(v, out, o) {
      let big: bigint;
      if (typeof v === "bigint") big = v;
      else if (typeof v === "number" && Number.isSafeInteger(v)) big = BigInt(v);
      else throw intCodecError(cType, v, "not an integer (numbers must be safe integers; use a bigint)");
      if (big > U64_MAX || big < S64_MIN) throw intCodecError(cType, v, "out of range for 64 bits");
      viewOf(out).setBigUint64(out.byteOffset + o, BigInt.asUintN(64, big), true);
    },
  };
}

/** Opaque bytes: decode returns a copy, encode needs exactly `size` bytes. */
export function bytesCodec(size: number, cType = `char[${size}]`): KeyValueCodec<Uint8Array> {
  return {
    size,
    cType,
    decode(b, o) {
      return b.slice(o, o + size);
    },
    encode(v, out, o) {
      if (!(v instanceof Uint8Array)) throw new CodecError(`${cType}: expected a Uint8Array, got ${describeValue(v)}`);
      if (v.byteLength !== size) throw new CodecError(`${cType}: expected ${size} bytes, got ${v.byteLength}`);
      out.set(v, o);
    },
  };
}

/** The no-BTF fallback for a map slot of `size` bytes. */
export function rawCodec(size: number): KeyValueCodec<unknown> {
  if (size === 4) return u32Codec("32-bit integer, no BTF") as KeyValueCodec<unknown>;
  if (size === 8) return u64Codec("64-bit integer, no BTF") as KeyValueCodec<unknown>;
  return bytesCodec(size, "raw bytes, no BTF") as KeyValueCodec<unknown>;
}

export function round8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Per-CPU values: the kernel lays out one slot per possible CPU, each rounded up to 8 bytes. Decodes to an array
 * of `ncpus` values; encoding needs an array of exactly that length.
 */
export function perCpuCodec<T>(inner: KeyValueCodec<T>, ncpus: number): KeyValueCodec<T[]> {
  const stride = round8(inner.size);
  return {
    size: stride * ncpus,
    cType: `${inner.cType ?? `${inner.size} bytes`}[${ncpus} possible CPUs]`,
    decode(b, o) {
      const out = new Array<T>(ncpus);
      for (let c = 0; c < ncpus; c++) out[c] = inner.decode(b, o + c * stride);
      return out;
    },
    encode(v, out, o) {
      if (!Array.isArray(v)) throw new CodecError(`expected an array with one value per possible CPU (${ncpus}), got ${describeValue(v)}`);
      if (v.length !== ncpus) throw new CodecError(`expected ${ncpus} per-CPU values (one per possible CPU), got ${v.length}`);
      for (let c = 0; c < ncpus; c++) inner.encode(v[c]!, out, o + c * stride);
    },
  };
}
