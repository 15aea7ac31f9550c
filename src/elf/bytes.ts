// Bounds-checked little-endian access to a byte range. Every read names what it was reading so the
// ElfError says which structure and which offset were bad.

import { ElfError } from "./types.js";

const utf8 = new TextDecoder("utf-8", { fatal: false });

export class LeBytes {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws unless [offset, offset + size) lies inside the bytes. */
  need(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 ||
      offset + size > this.bytes.length) {
      throw new ElfError(`${what}: ${size} bytes at offset ${offset} exceed the ${this.bytes.length}-byte input`);
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.bytes[offset]!;
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, true);
  }

  u64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.view.getBigUint64(offset, true);
  }

  i64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.view.getBigInt64(offset, true);
  }

  /** A u64 that must fit in a JS number exactly (offsets, sizes, alignments). */
  u64n(offset: number, what: string): number {
    return toSafeNumber(this.u64(offset, what), `${what} (at offset ${offset})`);
  }

  /** Zero-copy view of [offset, offset + size). */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }
}

export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ElfError(`${what}: value 0x${value.toString(16)} is too large`);
  }
  return Number(value);
}

/**
 * The NUL-terminated string starting at `offset` inside `table` (a string table's bytes).
 * `what` names the table for the error message.
 */
export function cString(table: Uint8Array, offset: number, what: string): string {
  if (offset < 0 || offset >= table.length) {
    if (offset === 0 && table.length === 0) return "";
    throw new ElfError(`${what}: string offset ${offset} is outside the ${table.length}-byte string table`);
  }
  const end = table.indexOf(0, offset);
  if (end < 0) {
    throw new ElfError(`${what}: string at offset ${offset} is not NUL-terminated`);
  }
  return decodeText(table, offset, end);
}

/** Decodes bytes [start, end) as UTF-8 (TextDecoder has a fast path for the usual ASCII names). */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  return start === end ? "" : utf8.decode(bytes.subarray(start, end));
}

/**
 * Name lookup in a string table section. Decoded names are cached by offset, and the bytes decoded at
 * distinct offsets are budgeted: a crafted table where many entries point into one long unterminated run
 * would otherwise cost time and memory quadratic in the file size.
 */
export class StringTable {
  private readonly cache = new Map<number, string>();
  private budget: number;

  constructor(private readonly table: Uint8Array, private readonly what: string) {
    this.budget = 8 * table.length + (1 << 20);
  }

  get(offset: number): string {
    let s = this.cache.get(offset);
    if (s === undefined) {
      s = cString(this.table, offset, this.what);
      this.budget -= s.length + 1;
      if (this.budget < 0) {
        throw new ElfError(`${this.what}: names overlap implausibly (more than 8x the table size decoded)`);
      }
      this.cache.set(offset, s);
    }
    return s;
  }
}

