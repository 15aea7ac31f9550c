/**
 * BTF -> C header (our `vmlinux.h`): every struct, union, enum and typedef of a BTF blob as compilable C whose
 * sizes and member offsets equal the BTF's.
 *
 * - Order: a type used by value is defined before the definition that uses it; a struct or union used only
 *   through pointers gets a forward declaration, which is also how pointer cycles are broken. Types are
 *   visited in id order and their dependencies depth-first, so the output is deterministic.
 * - Layout: BTF records offsets, not the attributes that produced them. Each struct's layout is simulated
 *   under the SysV rules clang uses for BPF; holes become unnamed bitfields (`long: 64;`, which never change
 *   alignment), a member the natural layout cannot place (or a size it cannot reach) makes the struct
 *   `__attribute__((packed))`, a union larger than its members gets `__attribute__((aligned(N)))`, an enum
 *   whose size differs from the natural one gets `__attribute__((mode(..)))`.
 * - Names: struct/union/enum tags share one namespace, typedef names and enumerators another; a later type
 *   reusing a taken name is printed as `name___2` (BTF keeps same-named but different types of different
 *   compilation units). Anonymous enums are printed once at top level, and fields of their type as the
 *   integer of the same size, so their enumerators are never defined twice.
 */
import type { Btf } from "./btf.js";
import { CLayouts } from "./c-layout.js";
import { BTF_KIND, type BtfType, type CompositeType, type Member } from "./types.js";

export interface PrintOptions {
  /** Include guard macro (default `__VMLINUX_H__`); "" for none. */
  guard?: string;
}

/** The C header text for every named type in `btf`. */
export function printCHeader(btf: Btf, opts: PrintOptions = {}): string {
  return new Printer(btf).print(opts.guard ?? "__VMLINUX_H__");
}

/**
 * The header plus the name each type got in it (type id -> tag of a struct/union/enum/fwd, or typedef name):
 * differs from the BTF name only for a repeated name (`name___2`) or one that is not a C identifier.
 */
export function printCHeaderWithNames(btf: Btf, opts: PrintOptions = {}): { text: string; names: Map<number, string> } {
  const p = new Printer(btf);
  const text = p.print(opts.guard ?? "__VMLINUX_H__");
  return { text, names: p.names() };
}

const NONE = 0, DECLARED = 1, IN_PROGRESS = 2, DONE = 3;

const VALID_INT = /^(?:(?:signed|unsigned|char|short|int|long|_Bool|__int128)\s*)+$/;

class Printer {
  private readonly out: string[] = [];
  private readonly state: Uint8Array;
  private readonly tags = new Map<number, string>();
  private readonly ordinary = new Map<number, string>();
  private readonly enumerators = new Map<number, string[]>();
  private readonly declaredTags = new Set<string>();
  private readonly layouts: CLayouts;

  constructor(private readonly btf: Btf) {
    this.state = new Uint8Array(btf.length);
    this.layouts = new CLayouts(btf);
    this.assignNames();
  }

  names(): Map<number, string> {
    return new Map([...this.tags, ...this.ordinary]);
  }

  print(guard: string): string {
    const btf = this.btf;
    if (guard) this.out.push(`#ifndef ${guard}`, `#define ${guard}`, "");
    for (const id of btf.ids()) {
      switch (btf.kindOf(id)) {
        case BTF_KIND.STRUCT: case BTF_KIND.UNION:
          if (btf.nameOf(id)) this.define(id);
          break;
        case BTF_KIND.ENUM: case BTF_KIND.ENUM64:
          this.emitEnum(id);
          break;
        case BTF_KIND.TYPEDEF:
          this.emitTypedef(id);
          break;
        case BTF_KIND.FWD:
          this.declare(id);
          break;
      }
    }
    if (guard) this.out.push(`#endif /* ${guard} */`, "");
    return this.out.join("\n");
  }

  // ------------------------------------------------------------------------------------------ names

  private assignNames(): void {
    const btf = this.btf;
    const tagOwner = new Map<string, string>(); // tag -> "struct" | "union" | "enum"
    const ordinaryTaken = new Set<string>();
    const unique = (taken: { has(n: string): boolean }, name: string) => {
      if (!taken.has(name)) return name;
      for (let i = 2; ; i++) if (!taken.has(`${name}___${i}`)) return `${name}___${i}`;
    };
    const fwds: number[] = [];
    for (const id of btf.ids()) {
      const k = btf.kindOf(id);
      if (k === BTF_KIND.STRUCT || k === BTF_KIND.UNION || k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64) {
        const raw = btf.nameOf(id);
        const t = k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64 ? btf.type(id) : undefined;
        if (t && (t.kind === "enum" || t.kind === "enum64")) {
          this.enumerators.set(id, t.values.map((v) => {
            const n = unique(ordinaryTaken, cIdent(v.name));
            ordinaryTaken.add(n);
            return n;
          }));
          if (t.values.length === 0) continue; // printed as a plain integer: no tag needed
        }
        if (!raw) continue;
        const name = unique(tagOwner, cIdent(raw));
        tagOwner.set(name, k === BTF_KIND.UNION ? "union" : k === BTF_KIND.STRUCT ? "struct" : "enum");
        this.tags.set(id, name);
      } else if (k === BTF_KIND.TYPEDEF) {
        const name = unique(ordinaryTaken, cIdent(btf.nameOf(id)));
        ordinaryTaken.add(name);
        this.ordinary.set(id, name);
      } else if (k === BTF_KIND.FWD) {
        fwds.push(id);
      }
    }
    // A forward declaration names the same tag as the definition, if there is one of its kind.
    for (const id of fwds) {
      const t = btf.type(id);
      const raw = cIdent(t.name);
      const fwdKind = t.kind === "fwd" ? t.fwdKind : "struct";
      const owner = tagOwner.get(raw);
      const name = owner === undefined || owner === fwdKind ? raw : unique(tagOwner, raw);
      tagOwner.set(name, fwdKind);
      this.tags.set(id, name);
    }
  }

  // ------------------------------------------------------------------------------------------ ordering

  /** Makes `id` usable at this point of the output: declared, or complete when `complete`. */
  private ensure(id: number, complete: boolean): void {
    const t = this.btf.type(id);
    switch (t.kind) {
      case "ptr":
        return this.ensure(t.type, false);
      case "array":
        return this.ensure(t.type, true); // even a pointer to an array needs a complete element type
      case "const": case "volatile": case "restrict": case "type_tag":
        return this.ensure(t.type, complete);
      case "typedef":
        this.emitTypedef(id);
        if (complete) this.ensure(t.type, true);
        return;
      case "func_proto":
        this.ensure(t.returnType, false);
        for (const p of t.params) this.ensure(p.type, false);
        return;
      case "struct": case "union":
        if (!t.name) return this.ensureMembers(t);
        return complete ? this.define(id) : this.declare(id);
      case "enum": case "enum64":
        return this.emitEnum(id);
      case "fwd":
        return this.declare(id);
      default:
        return;
    }
  }

  private ensureMembers(t: CompositeType): void {
    if (this.state[t.id] === DONE || this.state[t.id] === IN_PROGRESS) return;
    this.state[t.id] = IN_PROGRESS;
    for (const m of t.members) this.ensure(m.type, true);
    this.state[t.id] = DONE;
  }

  private declare(id: number): void {
    const tag = this.tags.get(id);
    if (tag === undefined || this.declaredTags.has(tag)) return;
    const t = this.btf.type(id);
    const kw = t.kind === "fwd" ? t.fwdKind : t.kind;
    this.declaredTags.add(tag);
    this.out.push(`${kw} ${tag};`, "");
  }

  private define(id: number): void {
    if (this.state[id] === DONE || this.state[id] === IN_PROGRESS) return;
    const t = this.btf.type(id) as CompositeType;
    this.state[id] = IN_PROGRESS;
    for (const m of t.members) this.ensure(m.type, true);
    const tag = this.tags.get(id)!;
    this.declaredTags.add(tag);
    this.out.push(`${t.kind} ${tag} ${this.body(t, 0)};`, "");
    this.state[id] = DONE;
  }

  private emitTypedef(id: number): void {
    if (this.state[id] !== NONE) return;
    this.state[id] = IN_PROGRESS;
    const t = this.btf.type(id) as Extract<BtfType, { kind: "typedef" }>;
    this.ensure(t.type, false);
    this.out.push(`typedef ${this.decl(t.type, this.ordinary.get(id)!, 0)};`, "");
    this.state[id] = DONE;
  }

  private emitEnum(id: number): void {
    if (this.state[id] !== NONE) return;
    this.state[id] = DONE;
    const t = this.btf.type(id);
    if ((t.kind !== "enum" && t.kind !== "enum64") || t.values.length === 0) return;
    const names = this.enumerators.get(id)!;
    const lines = t.values.map((v, i) => `\t${names[i]} = ${enumValue(v.value, t.kind === "enum64", t.signed)},`);
    const tag = this.tags.get(id);
    const mode = enumNaturalSize(t) === t.size ? "" : ` __attribute__((mode(${MODES[t.size] ?? "SI"})))`;
    this.out.push(`enum ${tag ? `${tag} ` : ""}{\n${lines.join("\n")}\n}${tag ? mode : ""};`, "");
  }

  // ------------------------------------------------------------------------------------------ spelling

  /** `struct { ... } attrs` body text of a struct/union at nesting `depth`. */
  private body(t: CompositeType, depth: number): string {
    const lay = this.layouts.layout(t);
    const ind = indent(depth + 1);
    const lines: string[] = [];
    t.members.forEach((m, i) => {
      for (const p of lay.pads[i] ?? []) lines.push(`${ind}${p};`);
      lines.push(`${ind}${this.member(m, depth + 1)};`);
    });
    for (const p of lay.tail) lines.push(`${ind}${p};`);
    if (lay.sizeMember) lines.push(`${ind}char __tsbcc_size[${lay.sizeMember}];`);
    let attrs = "";
    if (lay.packed) attrs += " __attribute__((packed))";
    if (lay.alignAttr) attrs += ` __attribute__((aligned(${lay.alignAttr})))`;
    return `{\n${lines.join("\n")}\n${indent(depth)}}${attrs}`;
  }

  private member(m: Member, depth: number): string {
    let text: string;
    const target = this.btf.type(m.type);
    if (m.name === "" && (target.kind === "struct" || target.kind === "union")) {
      // An anonymous member: its fields belong to the enclosing struct. A named type used this way (a
      // Microsoft extension) is inlined as an anonymous body so plain C11 accepts it.
      text = `${target.kind} ${this.body(target, depth)}`;
    } else {
      text = this.decl(m.type, cIdent(m.name), depth);
    }
    return m.bitfieldSize ? `${text}: ${m.bitfieldSize}` : text;
  }

  /** A declaration of `name` with type `id` (C declarators read inside out: the name travels down the chain). */
  private decl(id: number, name: string, depth: number): string {
    const t = this.btf.type(id);
    switch (t.kind) {
      case "ptr":
        return this.decl(t.type, `*${name}`, depth);
      case "array":
        return this.decl(t.type, `${name.startsWith("*") ? `(${name})` : name}[${t.nelems}]`, depth);
      case "func_proto": {
        const inner = name.startsWith("*") ? `(${name})` : name;
        const params = t.params.map((p) => this.decl(p.type, "", depth));
        if (t.variadic) params.push("...");
        return this.decl(t.returnType, `${inner}(${params.length ? params.join(", ") : "void"})`, depth);
      }
      case "const": case "volatile": case "restrict":
        // A qualifier of a pointer goes right of its '*' (`char *const p`), any other to the left.
        if (this.pointerFollows(t.type)) return this.decl(t.type, name ? `${t.kind} ${name}` : t.kind, depth);
        {
          // const array of const char: the qualifier of an array is its elements', say it once.
          const inner = this.decl(t.type, name, depth);
          return inner.startsWith(`${t.kind} `) ? inner : `${t.kind} ${inner}`;
        }
      case "type_tag":
        return this.decl(t.type, name, depth);
      default:
        return name ? `${this.base(t, depth)} ${name}` : this.base(t, depth);
    }
  }

  private pointerFollows(id: number): boolean {
    for (let t = this.btf.type(id); ; t = this.btf.type(t.type)) {
      if (t.kind === "ptr") return true;
      if (t.kind !== "const" && t.kind !== "volatile" && t.kind !== "restrict" && t.kind !== "type_tag") return false;
    }
  }

  private base(t: BtfType, depth: number): string {
    switch (t.kind) {
      case "void": return "void";
      case "int": return intName(t.name, t.size, t.signed, t.bool);
      case "float": return floatName(t.name, t.size);
      case "typedef": return this.ordinary.get(t.id)!;
      case "fwd": return `${t.fwdKind} ${this.tags.get(t.id)}`;
      case "struct": case "union":
        return t.name ? `${t.kind} ${this.tags.get(t.id)}` : `${t.kind} ${this.body(t, depth)}`;
      case "enum": case "enum64": {
        const tag = this.tags.get(t.id);
        if (tag !== undefined) return `enum ${tag}`;
        return intName("", t.size, t.signed || t.values.some((v) => v.value < 0), false);
      }
      default:
        return "void";
    }
  }
}

const INDENTS: string[] = [];
function indent(depth: number): string {
  return (INDENTS[depth] ??= "\t".repeat(depth));
}

const MODES: Record<number, string> = { 1: "QI", 2: "HI", 4: "SI", 8: "DI" };

function cIdent(name: string): string {
  // The kernel's `__builtin_va_list` (x86: a 24-byte array) is not the BPF target's (a pointer), and a
  // compiler builtin cannot be redeclared: keep the kernel's layout under another name.
  if (name.startsWith("__builtin_")) return `__tsbcc${name}`;
  if (/^[A-Za-z_]\w*$/.test(name)) return name;
  const s = name.replace(/\W/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

function intName(name: string, size: number, signed: boolean, bool: boolean): string {
  if (name === "__int128 unsigned") return "unsigned __int128";
  if (name && VALID_INT.test(name)) return name;
  if (bool) return "_Bool";
  const names: Record<number, [string, string]> = {
    1: ["signed char", "unsigned char"], 2: ["short", "unsigned short"], 4: ["int", "unsigned int"],
    8: ["long", "unsigned long"], 16: ["__int128", "unsigned __int128"],
  };
  const pair = names[size] ?? names[4]!;
  return signed ? pair[0] : pair[1];
}

function floatName(name: string, size: number): string {
  if (name === "float" || name === "double" || name === "long double") return name;
  return size === 4 ? "float" : size === 8 ? "double" : "long double";
}

// The size clang gives an enum with these values and no attribute: int/unsigned int, else 64 bits.
function enumNaturalSize(t: Extract<BtfType, { kind: "enum" | "enum64" }>): number {
  for (const v of t.values) {
    const x = BigInt(v.value);
    if (x < -(1n << 31n) || x > 0xffffffffn) return 8;
  }
  return 4;
}

function enumValue(v: number | bigint, wide: boolean, signed: boolean): string {
  if (!wide) return String(v);
  const x = BigInt(v);
  if (x === -(1n << 63n)) return "(-9223372036854775807LL - 1)";
  return signed || x < 0n ? `${x}LL` : `${x}ULL`;
}
