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

  private constructor(starts: Float64Array, ends: Float64Array, ids: Uint32Array, private readonly rule: OverlapRule) {
    this.starts = starts;
    this.ends = ends;
    this.ids = ids;
    this.maxEnd = new Float64Array(starts.length);
    let m = -Infinity;
    for (let i = 0; i < ends.length; i++) {
      if (ends[i]! > m) m = ends[i]!;
      this.maxEnd[i] = m;
    }
  }

  static build(input: RangeInput, rule: OverlapRule = "nearest"): RangeIndex {
    const order = sortedOrder(input.starts, input.count);
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

  /** Position (in sorted order) of the last range starting at or before `addr`, or -1. */
  floor(addr: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length;
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
      for (; i >= 0 && this.maxEnd[i]! > addr; i--) if (addr < ends[i]!) return i;
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
 * Input positions ordered by start (ties keep input order). When starts * count fits in 2^53 the sort runs on
 * packed keys (start * 2^bits + position) with the native numeric sort, ~10x faster than a comparator.
 */
function sortedOrder(starts: ArrayLike<number>, count: number): Uint32Array {
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
