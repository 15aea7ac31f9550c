// Kernel symbols from /proc/kallsyms: address -> name (+offset, module) and name -> address.
//
// Text symbols (t/T/w/W) form the address index, each one running up to the next text symbol (kallsyms has
// no sizes); several names at one address resolve to the last one listed (as BCC does). Addresses are kept as numbers
// relative to the lowest text address so they stay exact. Names map to the first address listed for them, any
// type. Zero addresses (kptr_restrict hiding them) are skipped, so an unprivileged reader simply finds nothing.
import { readFileSync } from "node:fs";
import { RangeIndex, sortedOrder } from "./range-index.js";

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
  /** Names by sorted position (index.ids maps a position back to its kallsyms line order). */
  private readonly names: string[];
  private readonly moduleOf: Uint16Array;
  private readonly modules: string[];
  /** Every named line (any type), in kallsyms order; the name -> line map is built on the first name lookup. */
  private readonly allNames: string[];
  private all?: Map<string, number>;
  private readonly allHi: number[];
  private readonly allLo: number[];

  private constructor(text: string) {
    const hiParts: number[] = [];
    const loParts: number[] = [];
    const names: string[] = [];
    const mods: number[] = [];
    const modules = ["kernel"];
    const moduleIds = new Map<string, number>([["kernel", 0]]);
    let baseHi = Infinity;
    const allHi: number[] = [];
    const allLo: number[] = [];
    const allNames: string[] = [];
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
      let end = text.indexOf("\n", at);
      if (end < 0) end = n;
      // Only module lines ("name\t[module]") have a tab, and they end with "]": no scan for the others.
      const tab = text.charCodeAt(end - 1) === 93 ? text.lastIndexOf("\t", end) : -1;
      pos = end + 1;
      if (!ok || (hi === 0 && lo === 0) || (tab >= 0 && tab < at)) continue;
      const name = text.slice(at + 3, tab >= 0 ? tab : end);
      allNames.push(name);
      allHi.push(hi);
      allLo.push(lo);
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
    this.allNames = allNames;
    if (!Number.isFinite(baseHi)) baseHi = 0;
    this.base = BigInt(baseHi) << 32n;
    const count = names.length;
    const starts = new Float64Array(count);
    for (let i = 0; i < count; i++) starts[i] = (hiParts[i]! - baseHi) * TWO32 + loParts[i]!;
    // Each text symbol runs to the next distinct start; the last one gets one page.
    const order = sortedOrder(starts, count);
    const ends = new Float64Array(count);
    let next = Infinity;
    for (let i = count - 1; i >= 0; i--) {
      const s = starts[order[i]!]!;
      ends[order[i]!] = next === Infinity ? s + 4096 : next;
      if (i === 0 || starts[order[i - 1]!] !== s) next = s;
    }
    // Of several names at one address the last listed wins, as in BCC (e.g. __x64_sys_X over __do_sys_X).
    for (let i = 1; i < count; i++) if (starts[order[i]!] === starts[order[i - 1]!]) ends[order[i - 1]!] = starts[order[i]!]!;
    this.index = RangeIndex.build({ starts, ends, count }, "nearest", order);
    this.names = Array.from(this.index.ids, (id) => names[id]!); // in sorted order: one lookup less per query
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
    return { name: this.names[i]!, offset: rel - this.index.starts[i]!, module: this.modules[this.moduleOf[id]!]! };
  }

  /** Just the name of the text symbol covering `addr` (the allocation-free path of resolve), or undefined. */
  nameAt(addr: bigint): string | undefined {
    if (addr < this.base) return undefined;
    // Every text symbol here runs to the next start, and the last of several at one address is the one kept, so
    // the floor entry is the answer: no need to read its end, except past the very last symbol.
    const rel = Number(addr - this.base);
    const i = this.index.floor(rel);
    if (i < 0 || (i === this.names.length - 1 && rel >= this.index.ends[i]!)) return undefined;
    return this.names[i];
  }

  /** Address of the first symbol named `name` (any type), or undefined. */
  address(name: string): bigint | undefined {
    if (!this.all) {
      this.all = new Map();
      for (let i = 0; i < this.allNames.length; i++) if (!this.all.has(this.allNames[i]!)) this.all.set(this.allNames[i]!, i);
    }
    const i = this.all.get(name);
    return i === undefined ? undefined : (BigInt(this.allHi[i]!) << 32n) | BigInt(this.allLo[i]!);
  }
}
