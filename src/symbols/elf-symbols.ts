// The function symbols of one ELF module, indexed for fast address lookup. Symbol records are decoded straight
// from the symbol table bytes into typed arrays (no object per symbol); names stay as offsets into copies of
// the string tables and are decoded (and demangled) only when a lookup returns them, then cached.
import { SHN_UNDEF, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB, STT_FUNC, STT_GNU_IFUNC, PT_LOAD, type ElfFile } from "../elf/index.js";
import { demangle } from "./demangle.js";
import { RangeIndex } from "./range-index.js";

const SYM_SIZE = 24;
const TWO32 = 2 ** 32;

interface Segment { offset: number; vaddr: number; filesz: number }

/** Growable typed columns for symbols being collected. */
class Columns {
  starts = new Float64Array(1024);
  ends = new Float64Array(1024);
  nameOffsets = new Uint32Array(1024);
  tables = new Uint8Array(1024);
  count = 0;

  push(start: number, end: number, nameOffset: number, table: number): void {
    if (this.count === this.starts.length) this.grow();
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.nameOffsets[i] = nameOffset;
    this.tables[i] = table;
  }

  private grow(): void {
    const n = this.starts.length * 2;
    const f = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.starts = f(this.starts);
    this.ends = f(this.ends);
    const o = new Uint32Array(n); o.set(this.nameOffsets); this.nameOffsets = o;
    const t = new Uint8Array(n); t.set(this.tables); this.tables = t;
  }
}

export class ModuleSymbols {
  private readonly index: RangeIndex;
  private readonly nameOffsets: Uint32Array;
  private readonly tableOf: Uint8Array;
  private readonly stringTables: Buffer[];
  private readonly segments: Segment[];
  private readonly rawNames: (string | undefined)[];
  private readonly niceNames: (string | undefined)[];
  private byName?: Map<string, number>;
  /** Where the symbols came from: "symtab", "debug file <path>", "minidebuginfo", "dynsym". */
  readonly sources: string[];
  readonly buildId: string | undefined;

  private constructor(cols: Columns, tables: Buffer[], segments: Segment[], sources: string[], buildId: string | undefined) {
    this.index = RangeIndex.build({ starts: cols.starts, ends: cols.ends, count: cols.count });
    this.nameOffsets = cols.nameOffsets.slice(0, cols.count);
    this.tableOf = cols.tables.slice(0, cols.count);
    this.stringTables = tables;
    this.segments = segments;
    this.rawNames = new Array(cols.count);
    this.niceNames = new Array(cols.count);
    this.sources = sources;
    this.buildId = buildId;
  }

  /**
   * Indexes `main`'s functions: its own `.symtab` when it has one, else the first of `extra` (a debug file or
   * the MiniDebugInfo image) that has one; `.dynsym` entries fill in addresses the static table lacks.
   */
  static build(main: ElfFile, extra: { elf: ElfFile; source: string }[] = []): ModuleSymbols {
    const cols = new Columns();
    const tables: Buffer[] = [];
    const sources: string[] = [];
    const seen = new Set<number>();
    const symtabOwner = main.sections.some((s) => s.type === SHT_SYMTAB) ? { elf: main, source: "symtab" } : extra.find((e) => e.elf.sections.some((s) => s.type === SHT_SYMTAB));
    const add = (elf: ElfFile, type: number, source: string) => {
      for (const s of elf.sections) {
        if (s.type !== type || s.entsize < SYM_SIZE || s.entsize % 4 !== 0 || tables.length >= 255) continue;
        const strtab = elf.sections[s.link];
        if (!strtab || strtab.type === SHT_NOBITS) continue;
        const before = cols.count;
        collect(s.data, s.entsize, tables.length, cols, seen);
        if (cols.count === before) continue;
        tables.push(Buffer.from(strtab.data)); // a copy: the file's buffer can then be freed
        sources.push(source);
      }
    };
    if (symtabOwner) add(symtabOwner.elf, SHT_SYMTAB, symtabOwner.source);
    add(main, SHT_DYNSYM, "dynsym");
    const segments = main.programHeaders.filter((p) => p.type === PT_LOAD)
      .map((p) => ({ offset: Number(p.offset), vaddr: Number(p.vaddr), filesz: Number(p.filesz) }));
    return new ModuleSymbols(cols, tables, segments, sources, main.buildId());
  }

  get size(): number {
    return this.index.size;
  }

  /** Approximate bytes held by this index (typed arrays and string tables), for reports. */
  get byteSize(): number {
    return this.index.byteSize + this.nameOffsets.byteLength + this.tableOf.byteLength +
      this.rawNames.length * 8 + this.stringTables.reduce((n, t) => n + t.byteLength, 0);
  }

  /**
   * The link-time address a file offset is loaded at (through PT_LOAD), or -1 when no segment maps it. A separate
   * debug file keeps the segments' addresses but not their file extents; for one of those the offset is taken
   * relative to the first segment, which is how linkers lay out the read-only and code segments.
   */
  fileOffsetToVaddr(offset: number): number {
    for (const s of this.segments) if (offset >= s.offset && offset < s.offset + s.filesz) return offset - s.offset + s.vaddr;
    if (this.segments.length === 0) return offset;
    if (this.segments.every((s) => s.filesz === 0 || s.offset === 0)) return offset + this.segments[0]!.vaddr - this.segments[0]!.offset;
    return -1;
  }

  /** Position of the function covering link-time address `vaddr`, or -1. */
  find(vaddr: number): number {
    return this.index.find(vaddr);
  }

  start(pos: number): number {
    return this.index.starts[pos]!;
  }

  /** Name of the function at sorted position `pos`, demangled (C++ `_Z...`) unless `demangled` is false. */
  name(pos: number, demangled = true): string {
    let raw = this.rawNames[pos]; // cached by sorted position: one indirection less per lookup
    if (raw === undefined) raw = this.rawNames[pos] = this.decodeName(this.index.ids[pos]!);
    if (!demangled || !raw.startsWith("_Z")) return raw;
    let nice = this.niceNames[pos];
    if (nice === undefined) nice = this.niceNames[pos] = demangle(raw);
    return nice;
  }

  /** Link-time address of the function named `name` (raw or demangled), or undefined. */
  addressOf(name: string): number | undefined {
    if (!this.byName) {
      const map = new Map<string, number>();
      for (let pos = 0; pos < this.index.size; pos++) {
        const raw = this.name(pos, false);
        if (!map.has(raw)) map.set(raw, pos);
      }
      this.byName = map;
    }
    let pos = this.byName.get(name);
    if (pos === undefined && name.includes("::")) {
      for (let p = 0; p < this.index.size && pos === undefined; p++) if (this.name(p, true) === name) pos = p;
    }
    return pos === undefined ? undefined : this.index.starts[pos];
  }

  private decodeName(id: number): string {
    const table = this.stringTables[this.tableOf[id]!]!;
    const at = this.nameOffsets[id]!;
    if (at >= table.length) return "";
    let end = table.indexOf(0, at);
    if (end < 0) end = table.length;
    return table.toString("utf8", at, end);
  }
}

/** Appends the defined function symbols of one symbol table; skips addresses already taken (`seen`). */
function collect(data: Uint8Array, entsize: number, table: number, cols: Columns, seen: Set<number>): void {
  // Read as u32 words: [st_name, st_info | st_other << 8 | st_shndx << 16, value lo, value hi, size lo, size hi].
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
  const stride = entsize >>> 2;
  const count = Math.floor(data.byteLength / entsize);
  const added: number[] = [];
  for (let i = 1, w = stride; i < count; i++, w += stride) {
    const info = words[w + 1]!;
    const type = info & 0xf;
    if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || info >>> 16 === SHN_UNDEF) continue;
    const start = words[w + 2]! + words[w + 3]! * TWO32;
    if (start === 0 || seen.has(start)) continue;
    added.push(start);
    cols.push(start, start + words[w + 4]! + words[w + 5]! * TWO32, words[w]!, table);
  }
  for (const a of added) seen.add(a);
}
