/**
 * String-table helpers: NUL-terminated strings read straight from the table bytes, and byte-level comparison
 * so that name lookups never have to build JS strings for the types they skip.
 */
/** Decode the NUL-terminated string at `start` as UTF-8 (the table is known to end with NUL, or `end` bounds it). */
export function readCString(table: Uint8Array, start: number, end = table.length): string {
  let e = start;
  while (e < end && table[e] !== 0) e++;
  if (e === start) return "";
  // Buffer's native slice decoders are the fastest way to make short strings in Node (about 2x TextDecoder).
  return Buffer.prototype.toString.call(table, "utf8", start, e);
}

const utf8enc = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return utf8enc.encode(s);
}

/** Does the NUL-terminated string at `start` equal `name` (given as bytes, without NUL)? */
export function cstringEquals(table: Uint8Array, start: number, name: Uint8Array): boolean {
  const n = name.length;
  if (start + n >= table.length) return false;
  for (let i = 0; i < n; i++) if (table[start + i] !== name[i]) return false;
  return table[start + n] === 0;
}

/** FNV-1a over the NUL-terminated string at `start`; must agree with `hashBytes`. */
export function hashCString(table: Uint8Array, start: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < table.length; i++) {
    const b = table[i];
    if (b === 0) break;
    h = Math.imul(h ^ b, 0x01000193);
  }
  return h >>> 0;
}

export function hashBytes(name: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name[i], 0x01000193);
  return h >>> 0;
}
