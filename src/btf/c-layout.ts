// How the C printer (c-printer.ts) lays out a BTF struct or union so that clang reproduces BTF's offsets and size:
// SysV placement simulated member by member, holes filled with unnamed bitfields, `packed` when the natural layout
// cannot place a member, `aligned(N)` or a sizing char array when a union is larger than its members.
import type { Btf } from "./btf.js";
import { sizeof as btfSizeof, type CompositeType } from "./types.js";

export interface Layout {
  packed: boolean;
  /** Alignment of the printed type. */
  align: number;
  alignAttr: number;
  /** Padding bitfields to print before member i. */
  pads: (string[] | undefined)[];
  tail: string[];
  /** Unions only: a char array member that brings the size up when no alignment can. */
  sizeMember: number;
}

/** Layouts and alignments of one BTF blob's types, cached per type id. */
export class CLayouts {
  private readonly layouts = new Map<number, Layout>();

  constructor(private readonly btf: Btf) {}

  alignOf(id: number): number {
    const t = this.btf.type(id);
    switch (t.kind) {
      case "int": case "float": case "enum": case "enum64": return Math.min(t.size, 16) || 1;
      case "ptr": return 8;
      case "array": case "typedef": case "const": case "volatile": case "restrict": case "type_tag":
        return this.alignOf(t.type);
      case "struct": case "union": return this.layout(t).align;
      default: return 1;
    }
  }

  /** The struct's or union's layout as printed (computed once per type). */
  layout(t: CompositeType): Layout {
    let lay = this.layouts.get(t.id);
    if (!lay) {
      lay = t.kind === "union" ? this.unionLayout(t) : (this.structLayout(t, false) ?? this.structLayout(t, true)!);
      this.layouts.set(t.id, lay);
    }
    return lay;
  }

  private unionLayout(t: CompositeType): Layout {
    let bits = 0;
    let align = 1;
    for (const m of t.members) {
      bits = Math.max(bits, m.bitfieldSize || btfSizeof(this.btf, m.type) * 8);
      align = Math.max(align, this.alignOf(m.type));
    }
    const bytes = Math.ceil(bits / 8);
    const lay: Layout = { packed: false, align, alignAttr: 0, pads: [], tail: [], sizeMember: 0 };
    if (roundUp(bytes, align) === t.size) return lay;
    if (t.size < roundUp(bytes, align)) {
      lay.packed = true;
      lay.align = 1;
      if (bytes < t.size) lay.sizeMember = t.size;
      return lay;
    }
    for (let n = align * 2; n <= t.size; n *= 2) {
      if (roundUp(bytes, n) === t.size) return { ...lay, align: n, alignAttr: n };
    }
    lay.sizeMember = t.size;
    if (t.size % align !== 0) Object.assign(lay, { packed: true, align: 1 });
    return lay;
  }

  // Simulates clang's placement; null when the natural layout cannot produce the BTF offsets/size.
  private structLayout(t: CompositeType, packed: boolean): Layout | null {
    const pads: (string[] | undefined)[] = [];
    let pos = 0; // bits
    let align = 1;
    for (let i = 0; i < t.members.length; i++) {
      const m = t.members[i]!;
      const want = m.bitOffset;
      let natural: number;
      let end: number;
      if (m.bitfieldSize) {
        const unit = btfSizeof(this.btf, m.type) * 8;
        const fits = (at: number) => Math.floor(at / unit) === Math.floor((at + m.bitfieldSize - 1) / unit);
        natural = packed || fits(pos) ? pos : roundUp(pos, unit);
        if (!packed && !fits(want)) return null;
        end = want + m.bitfieldSize;
      } else {
        const a = packed ? 8 : this.alignOf(m.type) * 8;
        natural = roundUp(pos, a);
        if (want % a !== 0) return null;
        end = want + btfSizeof(this.btf, m.type) * 8;
      }
      if (want < natural) {
        if (packed) return { packed, align: 1, alignAttr: 0, pads, tail: [], sizeMember: 0 }; // overlapping members: give up
        return null;
      }
      if (want > natural) pads[i] = padding(pos, want);
      if (!packed) align = Math.max(align, this.alignOf(m.type));
      pos = end;
    }
    const size = t.size * 8;
    const a = packed ? 8 : align * 8;
    if (size % a !== 0 || roundUp(pos, a) > size) return null;
    return { packed, align: packed ? 1 : align, alignAttr: 0, pads, tail: roundUp(pos, a) < size ? padding(pos, size) : [], sizeMember: 0 };
  }
}

function roundUp(x: number, a: number): number {
  return a <= 1 ? x : Math.ceil(x / a) * a;
}

// Unnamed bitfields from bit `from` to bit `to`, each inside its own storage unit so that clang puts it
// exactly there; unnamed bitfields do not change the struct's alignment.
function padding(from: number, to: number): string[] {
  const out: string[] = [];
  let pos = from;
  while (pos < to) {
    const left = to - pos;
    if (pos % 8 !== 0 || left < 8) {
      const n = Math.min(8 - (pos % 8), left);
      out.push(`unsigned char: ${n}`);
      pos += n;
      continue;
    }
    const unit = [64, 32, 16, 8].find((u) => pos % u === 0 && left >= u)!;
    out.push(`${{ 64: "long", 32: "int", 16: "short", 8: "char" }[unit]}: ${unit}`);
    pos += unit;
  }
  return out;
}
