// Per-CPU tables (PERCPU_HASH, LRU_PERCPU_HASH, PERCPU_ARRAY). The kernel stores one value per *possible* CPU,
// each padded to 8 bytes; `get(key)` returns that array. `sum`, `max`, `average` and an optional reducer fold it,
// as BCC's PerCpuHash/PerCpuArray do.
import { ErrorCode, TsbccError } from "../../errors.js";
import { numPossibleCpus } from "../../kernel/cpus.js";
import type { Fd } from "../../sys/index.js";
import type * as hist from "./histogram.js";
import { perCpuCodec, type KeyValueCodec } from "./codec.js";
import { ArrayTable } from "./array.js";
import { HashTable, type TableInfo, type TableOptions } from "./table.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Reducer<V> = (acc: V, next: V) => V;

export interface PerCpuOptions<V> extends TableOptions {
  /** Folds the per-CPU array into one value for `getReduced`, `reducedEntries` and histograms (BCC's reducer=). */
  reducer?: Reducer<V>;
  /** Possible CPU count; default from /sys/devices/system/cpu/possible. */
  ncpus?: number;
}

function numeric(v: unknown): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

function sumOf<V>(table: string, vals: V[]): V {
  if (!vals.every(numeric)) throw new TsbccError(ErrorCode.TABLE_VALUE, `table "${table}": sum/max/average need integer values`);
  if (vals.length > 0 && typeof vals[0] === "bigint") return (vals as bigint[]).reduce((a, b) => a + b, 0n) as V;
  return (vals as number[]).reduce((a, b) => a + b, 0) as V;
}

function maxOf<V>(table: string, vals: V[]): V {
  if (!vals.every(numeric)) throw new TsbccError(ErrorCode.TABLE_VALUE, `table "${table}": sum/max/average need integer values`);
  return vals.reduce((a, b) => ((b as number | bigint) > (a as number | bigint) ? b : a));
}

/** The operations both per-CPU shapes share, written once over a `get` that returns the per-CPU array. */
class PerCpuOps<K, V> {
  constructor(
    private readonly name: string,
    readonly ncpus: number,
    private readonly reducer: Reducer<V> | undefined,
    private readonly getArray: (key: K) => V[] | undefined,
  ) {}
  sum(key: K): V | undefined {
    const vals = this.getArray(key);
    return vals && sumOf(this.name, vals);
  }
  max(key: K): V | undefined {
    const vals = this.getArray(key);
    return vals && maxOf(this.name, vals);
  }
  average(key: K): number | undefined {
    const s = this.sum(key);
    return s === undefined ? undefined : Number(s) / this.ncpus;
  }
  reduce(vals: V[], fn = this.reducer): V {
    return fn ? vals.reduce(fn) : sumOf(this.name, vals);
  }
}

export class PerCpuHashTable<K = any, V = any> extends HashTable<K, V[]> {
  /** Possible CPUs: the length of every value array. */
  readonly ncpus: number;
  readonly reducer: Reducer<V> | undefined;
  private readonly ops: PerCpuOps<K, V>;

  /** `value` is the codec of one CPU's value (the map's value_size bytes). */
  constructor(info: TableInfo, fd: Fd, key: KeyValueCodec<K>, value: KeyValueCodec<V>, options: PerCpuOptions<V> = {}) {
    const ncpus = options.ncpus ?? numPossibleCpus();
    checkValueSize(info, value);
    super(info, fd, key, perCpuCodec(value, ncpus), options);
    this.ncpus = ncpus;
    this.reducer = options.reducer;
    this.ops = new PerCpuOps(info.name, ncpus, options.reducer, (k) => this.get(k));
  }

  /** BCC's getvalue(): the per-CPU array (same as `get`). */
  getValue(key: K): V[] | undefined {
    return this.get(key);
  }
  /** The per-CPU values folded with the reducer (sum when none was given). */
  getReduced(key: K): V | undefined {
    const vals = this.get(key);
    return vals && this.ops.reduce(vals);
  }
  sum(key: K): V | undefined {
    return this.ops.sum(key);
  }
  max(key: K): V | undefined {
    return this.ops.max(key);
  }
  average(key: K): number | undefined {
    return this.ops.average(key);
  }
  *reducedEntries(fn?: Reducer<V>): IterableIterator<[K, V]> {
    for (const [k, vals] of this.entries()) yield [k, this.ops.reduce(vals, fn)];
  }
  protected override histEntries(): Iterable<readonly [unknown, hist.Count]> {
    return this.reducedEntries() as Iterable<readonly [unknown, hist.Count]>;
  }
}

export class LruPerCpuHashTable<K = any, V = any> extends PerCpuHashTable<K, V> {}

export class PerCpuArrayTable<V = any> extends ArrayTable<V[]> {
  readonly ncpus: number;
  readonly reducer: Reducer<V> | undefined;
  private readonly ops: PerCpuOps<number, V>;

  constructor(info: TableInfo, fd: Fd, value: KeyValueCodec<V>, options: PerCpuOptions<V> = {}) {
    const ncpus = options.ncpus ?? numPossibleCpus();
    checkValueSize(info, value);
    super(info, fd, perCpuCodec(value, ncpus), options);
    this.ncpus = ncpus;
    this.reducer = options.reducer;
    this.ops = new PerCpuOps(info.name, ncpus, options.reducer, (k) => this.get(k));
  }

  getValue(key: number): V[] | undefined {
    return this.get(key);
  }
  getReduced(key: number): V | undefined {
    const vals = this.get(key);
    return vals && this.ops.reduce(vals);
  }
  sum(key: number): V | undefined {
    return this.ops.sum(key);
  }
  max(key: number): V | undefined {
    return this.ops.max(key);
  }
  average(key: number): number | undefined {
    return this.ops.average(key);
  }
  *reducedEntries(fn?: Reducer<V>): IterableIterator<[number, V]> {
    for (const [k, vals] of this.entries()) yield [k, this.ops.reduce(vals, fn)];
  }
  protected override histEntries(): Iterable<readonly [unknown, hist.Count]> {
    return this.reducedEntries() as Iterable<readonly [unknown, hist.Count]>;
  }
}

function checkValueSize(info: TableInfo, value: KeyValueCodec<unknown>): void {
  if (value.size !== info.valueSize) {
    throw new TsbccError(ErrorCode.BAD_ARGUMENT, `table "${info.name}": value codec is ${value.size} bytes but the map's value_size is ${info.valueSize}`);
  }
}
