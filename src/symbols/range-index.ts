// Address ranges in typed arrays, sorted by start, looked up by binary search. Every symbol source (kallsyms,
// ELF symbol tables, perf maps) builds one of these: a million lookups then cost a million binary searches
// over flat Float64Arrays, with no per-symbol objects to allocate or chase.
//
// Addresses are plain numbers: user addresses fit in 2^53, and kernel addresses are stored relative to a base
// by their owner. Ranges may nest or overlap; `maxEnd` (the largest end of any range at or before a position)
// bounds how far back a lookup has to look for a range that still covers the address.

export interface RangeInput {
  starts: ArrayLike<number>;
  /** Exclusive ends; a range with end <= start never matches. */
  ends: ArrayLike<number>;
  count: number;
}

/** Which of several ranges covering an address wins: the one starting nearest it, or the newest (highest id). */
export type OverlapRule = "nearest" | "newest";

export class RangeIndex {
  /** Sorted starts, their ends, and the caller's id for each (its position in the input). */
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly ids: Uint32Array;
  private readonly maxEnd: Float64Array;
  /**
   * Bucket table over the dense run of starts [first, last]: buckets[b] is the first position whose start falls in
   * bucket b or later, so a lookup binary-searches only its bucket's few entries instead of the whole array (a
   * search over 100k+ starts costs ~17 cache misses; this costs two or three). When one gap spans most of the
   * address range (kernel text, then modules and BPF programs a gigabyte higher), the smaller side is left out of
   * the table and searched whole, so the buckets stay fine-grained where the entries are.
   */
  private readonly buckets: Uint32Array;
  private readonly first: number;
  private readonly last: number;
  private readonly min: number;
  private readonly scale: number;

  private constructor(starts: Float64Array, ends: Float64Array, ids: Uint32Array, private readonly rule: OverlapRule) {
    this.starts = starts;
    this.ends = ends;
    this.ids = ids;
    const n = starts.length;
    this.maxEnd = new Float64Array(n);
    let m = -Infinity;
    for (let i = 0; i < n; i++) {
      if (ends[i]! > m) m = ends[i]!;
      this.maxEnd[i] = m;
    }
    [this.first, this.last] = denseRun(starts);
    const count = Math.min(1 << 20, Math.max(1, 2 ** Math.ceil(Math.log2(4 * n + 1)))); // ~4 buckets per entry
    this.min = n > 0 ? starts[this.first]! : 0;
    this.scale = n > 0 ? count / (starts[this.last]! - this.min + 1) : 0;
    this.buckets = new Uint32Array(count + 1);
    let i = this.first;
    for (let b = 0; b <= count; b++) {
      while (i <= this.last && this.bucketOf(starts[i]!) < b) i++;
      this.buckets[b] = i;
    }
  }

  /** Monotonic in `addr`, so bucket order agrees with address order even after rounding. */
  private bucketOf(addr: number): number {
    const b = Math.floor((addr - this.min) * this.scale);
    return b < 0 ? 0 : b >= this.buckets.length - 1 ? this.buckets.length - 2 : b;
  }

  /** Indexes `input`; `order` (from sortedOrder of the same starts) saves sorting again. */
  static build(input: RangeInput, rule: OverlapRule = "nearest", order = sortedOrder(input.starts, input.count)): RangeIndex {
    const n = order.length;
    const starts = new Float64Array(n);
    const ends = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const id = order[i]!;
      starts[i] = input.starts[id]!;
      ends[i] = input.ends[id]!;
    }
    return new RangeIndex(starts, ends, order, rule);
  }

  get size(): number {
    return this.starts.length;
  }

  /** Bytes held by the index's arrays. */
  get byteSize(): number {
    return this.starts.byteLength * 3 + this.ids.byteLength + this.buckets.byteLength;
  }

  /** Position (in sorted order) of the last range starting at or before `addr`, or -1. */
  floor(addr: number): number {
    const s = this.starts;
    const n = s.length;
    let lo: number;
    let hi: number;
    if (n === 0 || addr < s[0]!) return -1;
    if (addr < this.min) {
      lo = 0; // below the bucketed run
      hi = this.first;
    } else if (this.last + 1 < n && addr >= s[this.last + 1]!) {
      lo = this.last + 1; // above it
      hi = n;
    } else {
      // Starts in earlier buckets are <= addr and those in later buckets are > addr: search this bucket only.
      const b = this.bucketOf(addr);
      lo = this.buckets[b]!;
      hi = this.buckets[b + 1]!;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Position of the range covering `addr` under this index's overlap rule, or -1. */
  find(addr: number): number {
    let i = this.floor(addr);
    if (i < 0) return -1;
    const ends = this.ends;
    if (this.rule === "nearest") {
      if (addr < ends[i]!) return i; // the usual case: the floor entry covers it
      for (i--; i >= 0 && this.maxEnd[i]! > addr; i--) if (addr < ends[i]!) return i;
      return -1;
    }
    let best = -1;
    for (; i >= 0 && this.maxEnd[i]! > addr; i--) {
      if (addr < ends[i]! && (best < 0 || this.ids[i]! > this.ids[best]!)) best = i;
    }
    return best;
  }
}

/**
 * The positions [first, last] the bucket table covers: all of them, unless one gap between neighbours is more than
 * half the whole span, in which case the side with more entries.
 */
function denseRun(starts: Float64Array): [number, number] {
  const n = starts.length;
  if (n < 2) return [0, Math.max(0, n - 1)];
  let gapAt = 0;
  for (let i = 1; i < n - 1; i++) if (starts[i + 1]! - starts[i]! > starts[gapAt + 1]! - starts[gapAt]!) gapAt = i;
  if (starts[gapAt + 1]! - starts[gapAt]! <= (starts[n - 1]! - starts[0]!) / 2) return [0, n - 1];
  return gapAt + 1 >= n - gapAt - 1 ? [0, gapAt] : [gapAt + 1, n - 1];
}

/**
 * Input positions ordered by start (ties keep input order). When starts * count fits in 2^53 the sort runs on
 * packed keys (start * 2^bits + position) with the native numeric sort, ~10x faster than a comparator.
 */
export function sortedOrder(starts: ArrayLike<number>, count: number): Uint32Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const s = starts[i]!;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const order = new Uint32Array(count);
  if (count === 0) return order;
  const bits = Math.max(1, Math.ceil(Math.log2(count + 1)));
  const scale = 2 ** bits;
  if (min >= 0 && Number.isInteger(min) && (max - min + 1) * scale < 2 ** 53) {
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i++) keys[i] = (starts[i]! - min) * scale + i;
    keys.sort();
    for (let i = 0; i < count; i++) order[i] = keys[i]! % scale;
    return order;
  }
  for (let i = 0; i < count; i++) order[i] = i;
  return order.sort((a, b) => starts[a]! - starts[b]! || a - b);
}
