// Seeded byte mutation for fuzz tests: the same seed gives the same mutants on every machine, so a failure in CI
// is reproduced by its seed and round number. Bounded by a round count and a time budget, never open-ended.

export { seededRandom as seeded } from "./elf.js";

/** Field values that break parsers: zero, ones, sign bits, sizes just past 32 and 53 bits. */
const INTERESTING = [0n, 1n, 7n, 0x7fn, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 1n << 32n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n];

/** 1-4 edits, mostly inside `ranges` ([start, length]): byte flips and aligned 32/64-bit interesting values. */
export function mutateBytes(src: Uint8Array, rand: () => number, ranges: [number, number][]): Uint8Array {
  const out = src.slice();
  const view = new DataView(out.buffer);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const [start, len] = ranges.length && rand() < 0.8 ? ranges[Math.floor(rand() * ranges.length)]! : [0, out.length];
    const at = start + Math.floor(rand() * len);
    const mode = rand();
    if (mode < 0.5 || at + 8 > out.length) {
      out[at] = (out[at]! ^ (1 + Math.floor(rand() * 255))) & 0xff;
    } else {
      const value = INTERESTING[Math.floor(rand() * INTERESTING.length)]!;
      if (mode < 0.75) view.setUint32(at & ~3, Number(value & 0xffffffffn), true);
      else view.setBigUint64(at & ~7, value, true);
    }
  }
  return out;
}

/** Runs `round(i)` for at most `rounds` rounds or `budgetMs`, whichever ends first; returns the rounds run. */
export function bounded(rounds: number, budgetMs: number, round: (i: number) => void): number {
  const end = Date.now() + budgetMs;
  let i = 0;
  for (; i < rounds && Date.now() < end; i++) round(i);
  return i;
}
