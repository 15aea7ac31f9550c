// Kernel symbols from /proc/kallsyms: address -> name (+offset, module) and name -> address.
//
// Text symbols (t/T/w/W) form the address index, each one running up to the next text symbol (kallsyms has
// no sizes); several names at one address resolve to the first one listed. Addresses are kept as numbers
// relative to the lowest text address so they stay exact. Names map to the first address listed for them, any
// type. Zero addresses (kptr_restrict hiding them) are skipped, so an unprivileged reader simply finds nothing.
import { readFileSync } from "node:fs";
import { RangeIndex } from "./range-index.js";

export interface KernelSymbol {
  name: string;
  /** Bytes past the symbol's start. */
  offset: number;
  /** "kernel" for the core image, else the module name kallsyms gives in brackets (e.g. "bpf", "ext4"). */
  module: string;
}

const TWO32 = 2 ** 32;

export class KernelSymbols {
  /** bigint base subtracted from every address held here. */
  private readonly base: bigint;
  private readonly index: RangeIndex;
  private readonly names: string[];
  private readonly moduleOf: Uint16Array;
  private readonly modules: string[];
  private readonly all: Map<string, number>;
  private readonly allHi: number[];
  private readonly allLo: number[];

  private constructor(text: string) {
    const hiParts: number[] = [];
    const loParts: number[] = [];
    const names: string[] = [];
    const mods: number[] = [];
    const modules = ["kernel"];
    const moduleIds = new Map<string, number>([["kernel", 0]]);
    this.all = new Map();
    let baseHi = Infinity;
    const allHi: number[] = [];
    const allLo: number[] = [];
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      // "<hex address> <type> <name>[\t[<module>]]\n", scanned by character code (no per-line split or regex).
      let hi = 0;
      let lo = 0;
      let digits = 0;
      let c = text.charCodeAt(pos);
      for (; digits < 16; c = text.charCodeAt(pos + ++digits)) {
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
        if (d < 0) break;
        hi = hi * 16 + Math.floor(lo / 0x10000000);
        lo = (lo % 0x10000000) * 16 + d;
      }
      let at = pos + digits;
      const ok = digits > 0 && c === 32 && text.charCodeAt(at + 2) === 32;
      const type = text[at + 1];
      let end = at + 3;
      let tab = -1;
      for (c = text.charCodeAt(end); end < n && c !== 10; c = text.charCodeAt(++end)) if (c === 9 && tab < 0) tab = end;
      pos = end + 1;
      if (!ok || (hi === 0 && lo === 0)) continue;
      const name = text.slice(at + 3, tab >= 0 ? tab : end);
      if (!this.all.has(name)) {
        this.all.set(name, allHi.length);
        allHi.push(hi);
        allLo.push(lo);
      }
      if (type !== "t" && type !== "T" && type !== "w" && type !== "W") continue;
      let mod = 0;
      if (tab >= 0) {
        at = text.charCodeAt(tab + 1) === 91 ? tab + 2 : tab + 1;
        const modName = text.slice(at, text.charCodeAt(end - 1) === 93 ? end - 1 : end);
        mod = moduleIds.get(modName) ?? -1;
        if (mod < 0) {
          mod = modules.length;
          modules.push(modName);
          moduleIds.set(modName, mod);
        }
      }
      if (hi < baseHi) baseHi = hi;
      hiParts.push(hi);
      loParts.push(lo);
      names.push(name);
      mods.push(mod);
    }
    this.allHi = allHi;
    this.allLo = allLo;
    if (!Number.isFinite(baseHi)) baseHi = 0;
    this.base = BigInt(baseHi) << 32n;
    const count = names.length;
    const starts = new Float64Array(count);
    for (let i = 0; i < count; i++) starts[i] = (hiParts[i]! - baseHi) * TWO32 + loParts[i]!;
    // Each text symbol runs to the next distinct start; the last one gets one page.
    const sorted = RangeIndex.build({ starts, ends: starts, count });
    const ends = new Float64Array(count);
    let next = Infinity;
    for (let i = count - 1; i >= 0; i--) {
      const s = sorted.starts[i]!;
      ends[sorted.ids[i]!] = next === Infinity ? s + 4096 : next;
      if (i === 0 || sorted.starts[i - 1]! !== s) next = s;
    }
    // Drop later duplicates at one address so the first listed name wins.
    for (let i = 1; i < count; i++) if (sorted.starts[i] === sorted.starts[i - 1]) ends[sorted.ids[i]!] = sorted.starts[i]!;
    this.index = RangeIndex.build({ starts, ends, count });
    this.names = names;
    this.moduleOf = Uint16Array.from(mods);
    this.modules = modules;
  }

  /** Parses kallsyms text (the contents of /proc/kallsyms or a saved copy). */
  static parse(text: string): KernelSymbols {
    return new KernelSymbols(text);
  }

  static load(path = "/proc/kallsyms"): KernelSymbols {
    return new KernelSymbols(readFileSync(path, "latin1"));
  }

  /** Number of text symbols in the address index. */
  get size(): number {
    return this.index.size;
  }

  /** The text symbol covering `addr`, or undefined. */
  resolve(addr: bigint): KernelSymbol | undefined {
    const rel = addr - this.base;
    if (rel < 0n) return undefined;
    return this.resolveRelative(Number(rel));
  }

  /** Same as resolve for an address already relative to `base` (the benchmark's and stack walker's fast path). */
  resolveRelative(rel: number): KernelSymbol | undefined {
    const i = this.index.find(rel);
    if (i < 0) return undefined;
    const id = this.index.ids[i]!;
    return { name: this.names[id]!, offset: rel - this.index.starts[i]!, module: this.modules[this.moduleOf[id]!]! };
  }

  /** Address of the first symbol named `name` (any type), or undefined. */
  address(name: string): bigint | undefined {
    const i = this.all.get(name);
    return i === undefined ? undefined : (BigInt(this.allHi[i]!) << 32n) | BigInt(this.allLo[i]!);
  }
}
