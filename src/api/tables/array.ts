// Array-shaped tables: integer indices 0..maxEntries-1 (negative ones count from the end, as in BCC), a size
// that is always maxEntries, and, for plain data arrays, delete meaning "write zeroes".
import { ErrorCode, TsbccError } from "../../errors.js";
import { bpf, SyscallError, type Fd } from "../../sys/index.js";
import { u32Codec, viewOf, type KeyValueCodec } from "./codec.js";
import { TableKeyError } from "./errors.js";
import { Table, type TableInfo, type TableOptions } from "./table.js";

const ENOENT = 2;

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * BCC's ArrayBase: the common part of ARRAY, PERCPU_ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY, DEVMAP,
 * CPUMAP, XSKMAP and ARRAY_OF_MAPS. Here `delete` really deletes (fd arrays empty the slot).
 */
export class ArrayTableBase<V = any> extends Table<number, V> {
  constructor(info: TableInfo, fd: Fd, value: KeyValueCodec<V>, options: TableOptions = {}) {
    if (info.keySize !== 4) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `table "${info.name}": array maps have 4-byte keys, not ${info.keySize}`);
    super(info, fd, u32Codec("u32 index") as KeyValueCodec<number>, value, options);
  }

  /** Normalizes an index: integers only, negative ones wrap once, out of range throws RangeError. */
  index(key: number | bigint): number {
    let i: number;
    if (typeof key === "number" && Number.isInteger(key)) i = key;
    else if (typeof key === "bigint") i = Number(key);
    else throw new TableKeyError(this.name, `an integer index 0..${this.maxEntries - 1}`, key);
    if (i < 0) i += this.maxEntries;
    if (i < 0 || i >= this.maxEntries) {
      throw new TsbccError(ErrorCode.TABLE_KEY, `table "${this.name}": index ${String(key)} out of range for ${this.maxEntries} entries`);
    }
    return i;
  }

  protected override encodeKey(key: number, out?: Uint8Array, off = 0, _fresh = false): Uint8Array {
    const buf = out ?? this.keyBuf;
    viewOf(buf).setUint32(buf.byteOffset + off, this.index(key), true);
    return buf;
  }

  /** Always maxEntries, as BCC's len(). */
  override get size(): number {
    return this.maxEntries;
  }

  /** 0 .. maxEntries-1, without syscalls. */
  override *keys(): IterableIterator<number> {
    for (let i = 0; i < this.maxEntries; i++) yield i;
  }

  /** Deletes every slot (fd arrays). Empty slots are skipped. */
  override clear(): void {
    const k = new Uint8Array(4);
    const view = viewOf(k);
    for (let i = 0; i < this.maxEntries; i++) {
      view.setUint32(k.byteOffset, i, true);
      try {
        bpf.mapDelete(this.fd.value, k);
      } catch (err) {
        if (!(err instanceof SyscallError && err.errno === ENOENT)) this.failed(err);
      }
    }
  }

  /** BCC's clearitem(): writes an all-zero value at `key`. */
  clearItem(key: number): void {
    this.set(key, new Uint8Array(this.valueStride) as unknown as V);
  }

  /** Every index with its value, as one buffer each (for clear/zero of data arrays). */
  protected allIndices(): Uint8Array {
    const keys = new Uint8Array(this.maxEntries * 4);
    const view = viewOf(keys);
    for (let i = 0; i < this.maxEntries; i++) view.setUint32(keys.byteOffset + i * 4, i, true);
    return keys;
  }
}

/** BPF_MAP_TYPE_ARRAY: `delete(i)` and `clear()` write zeroes, since array slots cannot be removed. */
export class ArrayTable<V = any> extends ArrayTableBase<V> {
  /** Zeroes slot `key`; always true for an index in range. */
  override delete(key: number): boolean {
    this.clearItem(key);
    return true;
  }

  override clear(): void {
    this.zero();
  }

  /** Writes zeroes to every slot (one batch update when available). */
  override zero(): void {
    this.updateRaw(this.allIndices(), new Uint8Array(this.maxEntries * this.valueStride), this.maxEntries);
  }
}
