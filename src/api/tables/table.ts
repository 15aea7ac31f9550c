// Table classes for map types with keys and values: the TypeScript face of BCC's table.py.
//
//   const counts = b.table("counts");
//   counts.get(key); counts.set(key, 1n); counts.delete(key);
//   for (const [k, v] of counts) ...
//   counts.printLog2Hist("usecs");
//
// Keys and values go through a KeyValueCodec (from BTF, or raw when the map has none). Full walks use
// BPF_MAP_LOOKUP_BATCH where the kernel supports it (see iter.ts).
import { ErrorCode, TsbccError, ArgumentError } from "../../errors.js";
import { bpf, SyscallError, type Fd } from "../../sys/index.js";
import * as hist from "./histogram.js";
import type { KeyValueCodec } from "./codec.js";
import { TableKeyError, TableValueError } from "./errors.js";
import { collectKeys, rawEntries, tryBatch, type RawMap } from "./iter.js";
import { scanfValue, sprintfValue } from "./sprintf.js";

/** What a table needs to know about its map (the loader has all of it after creating the map). */
export interface TableInfo {
  name: string;
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface TableOptions {
  /** Use BPF_MAP_*_BATCH commands when the kernel supports them (default true; false forces per-key syscalls). */
  batch?: boolean;
}

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST, by name or number. */
export type UpdateFlag = "any" | "noexist" | "exist" | number;
const UPDATE_FLAGS = { any: 0, noexist: 1, exist: 2 } as const;

export interface HistPrintOptions extends Omit<hist.PrintHistOptions, "valType"> {}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Base of every key/value table (BCC's TableBase): HASH, LRU_HASH, LPM_TRIE, arrays and their per-CPU variants.
 * `K` and `V` are what the codecs produce; they default to `any` because BTF types are only known at run time.
 */
export class Table<K = any, V = any> implements Iterable<[K, V]> {
  readonly name: string;
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly fd: Fd;
  /** false forces get_next_key + lookup walks (tests, or kernels where batch misbehaves). */
  useBatch: boolean;
  /** Entries per BPF_MAP_LOOKUP_BATCH call; default the whole map (bounded to 64 MiB of buffers). */
  batchEntries: number | undefined;
  protected readonly keyCodec: KeyValueCodec<K>;
  protected readonly valueCodec: KeyValueCodec<V>;
  /** Bytes per value in syscalls: valueSize, or the whole per-CPU array for per-CPU maps. */
  protected readonly valueStride: number;
  // Scratch buffers for single-element syscalls; codecs never keep references to them.
  protected readonly keyBuf: Uint8Array;
  protected readonly valueBuf: Uint8Array;
  private readonly raw: RawMap;

  constructor(info: TableInfo, fd: Fd, key: KeyValueCodec<K>, value: KeyValueCodec<V>, options: TableOptions = {}) {
    this.name = info.name;
    this.mapType = info.mapType;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.fd = fd;
    this.useBatch = options.batch ?? true;
    this.keyCodec = key;
    this.valueCodec = value;
    this.valueStride = value.size;
    if (key.size !== info.keySize) {
      throw new TsbccError(ErrorCode.BAD_ARGUMENT, `table "${info.name}": key codec is ${key.size} bytes but the map's key_size is ${info.keySize}`);
    }
    this.keyBuf = new Uint8Array(info.keySize);
    this.valueBuf = new Uint8Array(this.valueStride);
    const self = this;
    this.raw = {
      name: info.name, mapType: info.mapType, keySize: info.keySize, valueStride: this.valueStride,
      maxEntries: info.maxEntries,
      get useBatch() { return self.useBatch; },
      get batchEntries() { return self.batchEntries; },
      fdValue: () => fd.value,
    };
  }

  /** BCC's get_fd(). */
  getFd(): number {
    return this.fd.value;
  }

  /** The C key type with its size, as used in error messages. */
  get keyType(): string {
    return `${this.keyCodec.cType ?? "key"} (${this.keySize} bytes)`;
  }

  get valueType(): string {
    return `${this.valueCodec.cType ?? "value"} (${this.valueStride} bytes)`;
  }

  // --- encoding --------------------------------------------------------------------------------------------------

  /**
   * Key bytes for `key` in `out` at `off` (default: the scratch buffer). A Uint8Array of keySize bytes is used as
   * is. `fresh` says the bytes are already zero (new batch buffers), so padding needs no clearing.
   */
  protected encodeKey(key: K, out: Uint8Array = this.keyBuf, off = 0, fresh = false): Uint8Array {
    const refused = refusedAtTheDoor(key, this.keyCodec.cType);
    if (refused) throw new TableKeyError(this.name, this.keyType, key, refused);
    if (!fresh) out.fill(0, off, off + this.keySize);
    if (key instanceof Uint8Array && key.byteLength === this.keySize) {
      out.set(key, off);
      return out;
    }
    try {
      this.keyCodec.encode(key, out, off);
    } catch (err) {
      throw new TableKeyError(this.name, this.keyType, key, (err as Error)?.message, { cause: err });
    }
    return out;
  }

  protected encodeValue(value: V, out: Uint8Array = this.valueBuf, off = 0, fresh = false): Uint8Array {
    const refused = refusedAtTheDoor(value, this.valueCodec.cType);
    if (refused) throw new TableValueError(this.name, this.valueType, value, refused);
    if (!fresh) out.fill(0, off, off + this.valueStride);
    if (value instanceof Uint8Array && value.byteLength === this.valueStride) {
      out.set(value, off);
      return out;
    }
    try {
      this.valueCodec.encode(value, out, off);
    } catch (err) {
      throw new TableValueError(this.name, this.valueType, value, (err as Error)?.message, { cause: err });
    }
    return out;
  }

  protected decodeKey(bytes: Uint8Array, off: number): K {
    return this.keyCodec.decode(bytes, off);
  }

  protected decodeValue(bytes: Uint8Array, off: number): V {
    return this.valueCodec.decode(bytes, off);
  }

  /** Re-throws a syscall failure with the table's name attached. */
  /** BCC's key_sprintf: the key as one line ("0x2", "{ 0x1 \"comm\" }"). */
  keySprintf(key: K): string {
    return sprintfValue(key);
  }
  /** BCC's leaf_sprintf. */
  leafSprintf(value: V): string {
    return sprintfValue(value);
  }
  /** BCC's key_scanf: parses what keySprintf writes. */
  keyScanf(text: string): K {
    return scanfValue(this.keyCodec, text);
  }
  /** BCC's leaf_scanf. */
  leafScanf(text: string): V {
    return scanfValue(this.valueCodec, text);
  }

  protected failed(err: unknown): never {
    if (err instanceof SyscallError) throw new SyscallError(err.syscall, err.errno, `table "${this.name}"`);
    throw err;
  }

  // --- single elements -------------------------------------------------------------------------------------------

  /** The value for `key`, or undefined when the key is absent (BCC raises KeyError). */
  get(key: K): V | undefined {
    const k = this.encodeKey(key);
    let found: boolean;
    try {
      found = bpf.mapLookup(this.fd.value, k, this.valueBuf);
    } catch (err) {
      this.failed(err);
    }
    return found ? this.decodeValue(this.valueBuf, 0) : undefined;
  }

  /** Creates or replaces (flags "any", the default), only creates ("noexist") or only replaces ("exist"). */
  set(key: K, value: V, flags: UpdateFlag = "any"): this {
    const k = this.encodeKey(key);
    const v = this.encodeValue(value);
    const f = typeof flags === "number" ? flags : UPDATE_FLAGS[flags];
    if (f === undefined) throw new ArgumentError("flags", `table "${this.name}": unknown update flag ${String(flags)}`);
    try {
      bpf.mapUpdate(this.fd.value, k, v, f);
    } catch (err) {
      this.failed(err);
    }
    return this;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: K): boolean {
    const k = this.encodeKey(key);
    try {
      return bpf.mapDelete(this.fd.value, k);
    } catch (err) {
      this.failed(err);
    }
  }

  has(key: K): boolean {
    const k = this.encodeKey(key);
    try {
      return bpf.mapLookup(this.fd.value, k, this.valueBuf);
    } catch (err) {
      this.failed(err);
    }
  }

  // --- iteration -------------------------------------------------------------------------------------------------

  *keys(): IterableIterator<K> {
    const ks = this.keySize;
    for (const ch of rawEntries(this.raw, false)) {
      for (let i = 0; i < ch.count; i++) yield this.decodeKey(ch.keys, i * ks);
    }
  }

  *values(): IterableIterator<V> {
    const vs = this.valueStride;
    for (const ch of rawEntries(this.raw, true)) {
      for (let i = 0; i < ch.count; i++) yield this.decodeValue(ch.values, i * vs);
    }
  }

  /** BCC's items(): every [key, value] pair (same as entries()). */
  items(): IterableIterator<[K, V]> {
    return this.entries();
  }

  *entries(): IterableIterator<[K, V]> {
    const ks = this.keySize;
    const vs = this.valueStride;
    for (const ch of rawEntries(this.raw, true)) {
      const { keys, values, count } = ch;
      for (let i = 0; i < count; i++) yield [this.decodeKey(keys, i * ks), this.decodeValue(values, i * vs)];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Number of entries, counted by walking the map (BCC's len() for hashes). */
  get size(): number {
    let n = 0;
    for (const ch of rawEntries(this.raw, false)) n += ch.count;
    return n;
  }

  /** Deletes every entry (keys are collected first so deleting never disturbs the walk). */
  clear(): void {
    const { keys, count } = collectKeys(this.raw);
    this.deleteRawKeys(keys, count);
  }

  /** Sets every existing entry's value to all zero bytes. */
  zero(): void {
    const { keys, count } = collectKeys(this.raw);
    this.updateRaw(keys, new Uint8Array(count * this.valueStride), count);
  }

  // --- batch operations (BCC's items_*_batch) ---------------------------------------------------------------------

  /** All entries, read with BPF_MAP_LOOKUP_BATCH when available. */
  itemsLookupBatch(): Array<[K, V]> {
    return [...this.entries()];
  }

  /** All entries, deleting them as they are read (BPF_MAP_LOOKUP_AND_DELETE_BATCH when available). */
  itemsLookupAndDeleteBatch(): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    const ks = this.keySize;
    const vs = this.valueStride;
    try {
      for (const ch of rawEntries(this.raw, true, true)) {
        for (let i = 0; i < ch.count; i++) out.push([this.decodeKey(ch.keys, i * ks), this.decodeValue(ch.values, i * vs)]);
      }
    } catch (err) {
      this.failed(err);
    }
    return out;
  }

  /**
   * Deletes the given keys (all entries when omitted); returns how many were deleted. When some keys are absent
   * the kernel's batch stops at the first one and the rest go key by key, so the count then covers that part only.
   */
  itemsDeleteBatch(keys?: Iterable<K>): number {
    if (keys === undefined) {
      let n = 0;
      for (const ch of rawEntries(this.raw, true, true)) n += ch.count;
      return n;
    }
    const list = [...keys];
    if (list.length === 0) return 0;
    const buf = new Uint8Array(list.length * this.keySize);
    list.forEach((k, i) => this.encodeKey(k, buf, i * this.keySize, true));
    return this.deleteRawKeys(buf, list.length);
  }

  /** Creates or replaces all given entries (1..maxEntries of them, as BCC requires); returns the count. */
  itemsUpdateBatch(entries: Iterable<readonly [K, V]>): number {
    const list = Array.isArray(entries) ? (entries as ReadonlyArray<readonly [K, V]>) : [...entries];
    if (list.length < 1 || list.length > this.maxEntries) {
      throw new ArgumentError("entries", `table "${this.name}": itemsUpdateBatch needs 1..${this.maxEntries} entries, got ${list.length}`);
    }
    const keys = new Uint8Array(list.length * this.keySize);
    const values = new Uint8Array(list.length * this.valueStride);
    const ks = this.keySize;
    const vs = this.valueStride;
    for (let i = 0; i < list.length; i++) {
      const [k, v] = list[i]!;
      this.encodeKey(k, keys, i * ks, true);
      this.encodeValue(v, values, i * vs, true);
    }
    this.updateRaw(keys, values, list.length);
    return list.length;
  }

  protected deleteRawKeys(keys: Uint8Array, count: number): number {
    if (count === 0) return 0;
    const fd = this.fd.value;
    try {
      // A key that vanished meanwhile makes the batch stop with ENOENT; the per-key path below then finishes.
      if (this.useBatch) {
        const n = tryBatch(this.mapType, "delete", () => bpf.mapDeleteBatch(fd, keys, count));
        if (n !== undefined) return n;
      }
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
    }
    let n = 0;
    const ks = this.keySize;
    try {
      for (let i = 0; i < count; i++) if (bpf.mapDelete(fd, keys.subarray(i * ks, (i + 1) * ks))) n++;
    } catch (err) {
      this.failed(err);
    }
    return n;
  }

  protected updateRaw(keys: Uint8Array, values: Uint8Array, count: number, flags = 0): void {
    if (count === 0) return;
    const fd = this.fd.value;
    try {
      if (this.useBatch && tryBatch(this.mapType, "update", () => bpf.mapUpdateBatch(fd, keys, values, count, flags)) !== undefined) return;
      const ks = this.keySize;
      const vs = this.valueStride;
      for (let i = 0; i < count; i++) {
        bpf.mapUpdate(fd, keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs), flags);
      }
    } catch (err) {
      this.failed(err);
    }
  }

  // --- histograms (histogram.ts does the layout) ----------------------------------------------------------

  /** Entries as the histogram printer wants them: slot (or struct key) -> count. */
  protected histEntries(): Iterable<readonly [unknown, hist.Count]> {
    return this.entries() as Iterable<readonly [unknown, hist.Count]>;
  }

  /** BCC's print_log2_hist text. Int keys are slots; struct keys give one section per first field. */
  formatLog2Hist(valType = "value", opts: hist.HistOptions = {}): string {
    return hist.formatLog2Hist(this.histEntries() as hist.HistData, { ...opts, valType });
  }

  formatLinearHist(valType = "value", opts: hist.HistOptions = {}): string {
    return hist.formatLinearHist(this.histEntries() as hist.HistData, { ...opts, valType });
  }

  printLog2Hist(valType = "value", opts: HistPrintOptions = {}): void {
    (opts.out ?? process.stdout).write(this.formatLog2Hist(valType, opts));
  }

  printLinearHist(valType = "value", opts: HistPrintOptions = {}): void {
    (opts.out ?? process.stdout).write(this.formatLinearHist(valType, opts));
  }

  formatJsonHist(valType = "value", opts: Omit<hist.JsonHistOptions, "valType"> = {}): string {
    return hist.formatJsonHist(this.histEntries() as hist.HistData, { ...opts, valType });
  }

  printJsonHist(valType = "value", opts: Omit<hist.JsonHistOptions, "valType"> & HistPrintOptions = {}): void {
    (opts.out ?? process.stdout).write(this.formatJsonHist(valType, opts));
  }

  /** The raw walker (for subclasses and tools that want bytes). */
  protected get rawMap(): RawMap {
    return this.raw;
  }
}

/** BPF_MAP_TYPE_HASH. */
export class HashTable<K = any, V = any> extends Table<K, V> {}

/** BPF_MAP_TYPE_LRU_HASH. */
export class LruHashTable<K = any, V = any> extends HashTable<K, V> {}

/**
 * BPF_MAP_TYPE_LPM_TRIE: keys are `{ prefixlen, data }`. Unlike BCC (whose len() raises), `size` counts by
 * walking, which LPM tries support since Linux 4.16.
 */
export class LpmTrieTable<K = any, V = any> extends Table<K, V> {}

/**
 * Whole keys and values the codecs would quietly turn into 0 or 1: a missing one (undefined, null) and a boolean
 * for a type that is not bool. Struct members may still be left out (they are zero, as in a C initializer).
 */
function refusedAtTheDoor(v: unknown, cType: string | undefined): string | undefined {
  if (v === undefined || v === null) return "nothing was given; it would be written as zero";
  if (typeof v === "boolean" && !/\b(_Bool|bool)\b/.test(cType ?? "")) return "a boolean is not an integer here; pass 0 or 1";
  return undefined;
}
