/**
 * The BTF type model: one plain object per type id, discriminated by `kind`.
 *
 * Types refer to each other by id (never by object) so that materializing one type never forces its neighbours,
 * and cyclic graphs (a struct holding a pointer to itself) need no special care. Use a `TypeSource` (a `Btf`) to
 * follow ids. The helpers here (`resolve`, `sizeof`, `alignof`, ...) take the source as first argument; `Btf` has
 * the same operations as methods.
 */
import { BtfError } from "./error.js";

/** Kind numbers as stored in bits 24..28 of `info`. */
export const BTF_KIND = {
  VOID: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export type BtfKind =
  | "void" | "int" | "ptr" | "array" | "struct" | "union" | "enum" | "fwd" | "typedef" | "volatile" | "const"
  | "restrict" | "func" | "func_proto" | "var" | "datasec" | "float" | "decl_tag" | "type_tag" | "enum64";

/** Index = kind number. */
export const KIND_NAMES: readonly BtfKind[] = [
  "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile", "const",
  "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64",
];

const KIND_NUMBERS = new Map<string, number>(KIND_NAMES.map((k, i) => [k, i]));

/** Kind number of a kind name; throws BtfError for an unknown name. */
export function kindNumber(kind: BtfKind): number {
  const k = KIND_NUMBERS.get(kind);
  if (k === undefined) throw new BtfError(`unknown BTF kind "${String(kind)}"`);
  return k;
}

/** INT encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

export type Linkage = "static" | "global" | "extern";

interface Base {
  readonly id: number;
  /** "" for anonymous types. */
  readonly name: string;
}

export interface VoidType extends Base { readonly kind: "void" }
export interface IntType extends Base {
  readonly kind: "int";
  readonly size: number;
  /** Value bits (`nr_bits`), usually size * 8. */
  readonly bits: number;
  /** Bit offset of the value inside the storage (`offset` of the INT encoding), usually 0. */
  readonly bitOffset: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}
export interface PtrType extends Base { readonly kind: "ptr"; readonly type: number }
export interface ArrayType extends Base {
  readonly kind: "array";
  /** Element type id. */
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface Member {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct in bits. */
  readonly bitOffset: number;
  /** Width for bitfields, 0 for ordinary members. */
  readonly bitfieldSize: number;
}
export interface StructType extends Base { readonly kind: "struct"; readonly size: number; readonly members: readonly Member[] }
export interface UnionType extends Base { readonly kind: "union"; readonly size: number; readonly members: readonly Member[] }
export interface EnumValue { readonly name: string; readonly value: number }
export interface Enum64Value { readonly name: string; readonly value: bigint }
export interface EnumType extends Base {
  readonly kind: "enum";
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly EnumValue[];
}
export interface Enum64Type extends Base {
  readonly kind: "enum64";
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly Enum64Value[];
}
export interface FwdType extends Base { readonly kind: "fwd"; readonly fwdKind: "struct" | "union" }
export interface TypedefType extends Base { readonly kind: "typedef"; readonly type: number }
export interface VolatileType extends Base { readonly kind: "volatile"; readonly type: number }
export interface ConstType extends Base { readonly kind: "const"; readonly type: number }
export interface RestrictType extends Base { readonly kind: "restrict"; readonly type: number }
export interface TypeTagType extends Base { readonly kind: "type_tag"; readonly type: number }
export interface FuncType extends Base {
  readonly kind: "func";
  /** The FUNC_PROTO id. */
  readonly type: number;
  readonly linkage: Linkage;
}
export interface FuncParam { readonly name: string; readonly type: number }
export interface FuncProtoType extends Base {
  readonly kind: "func_proto";
  readonly returnType: number;
  /** Without the trailing `...` marker. */
  readonly params: readonly FuncParam[];
  readonly variadic: boolean;
}
export interface VarType extends Base { readonly kind: "var"; readonly type: number; readonly linkage: Linkage }
export interface DatasecVar { readonly type: number; readonly offset: number; readonly size: number }
export interface DatasecType extends Base { readonly kind: "datasec"; readonly size: number; readonly vars: readonly DatasecVar[] }
export interface FloatType extends Base { readonly kind: "float"; readonly size: number }
export interface DeclTagType extends Base {
  readonly kind: "decl_tag";
  readonly type: number;
  /** -1: the tag applies to the declaration itself; otherwise the member/parameter index. */
  readonly componentIdx: number;
}

export type BtfType =
  | VoidType | IntType | PtrType | ArrayType | StructType | UnionType | EnumType | Enum64Type | FwdType
  | TypedefType | VolatileType | ConstType | RestrictType | TypeTagType | FuncType | FuncProtoType | VarType
  | DatasecType | FloatType | DeclTagType;

export type CompositeType = StructType | UnionType;
export type AnyEnumType = EnumType | Enum64Type;

/** Anything that can turn ids into types (a `Btf`). */
export interface TypeSource {
  type(id: number): BtfType;
}

export const VOID: VoidType = Object.freeze({ id: 0, kind: "void", name: "" });

/** Pointer size of the BPF target (and of every 64-bit kernel BTF describes). */
export const POINTER_SIZE = 8;

/** Bound on modifier/typedef/array chains: real BTF has a handful; malformed BTF may loop. */
const MAX_CHAIN = 512;

type TypeRef = number | BtfType;

function toType(src: TypeSource, t: TypeRef): BtfType {
  return typeof t === "number" ? src.type(t) : t;
}

function isSkippable(t: BtfType): t is TypedefType | VolatileType | ConstType | RestrictType | TypeTagType {
  return t.kind === "typedef" || t.kind === "volatile" || t.kind === "const" || t.kind === "restrict" || t.kind === "type_tag";
}

/** Skip typedef, const, volatile, restrict and type_tag layers. */
export function resolve(src: TypeSource, t: TypeRef): BtfType {
  let cur = toType(src, t);
  for (let hops = 0; isSkippable(cur); hops++) {
    if (hops > MAX_CHAIN) throw new BtfError(`type ${cur.id}: typedef/modifier chain loops`);
    cur = src.type(cur.type);
  }
  return cur;
}

/** Like `resolve` but also steps through VAR to its type (handy for globals). */
export function resolveValue(src: TypeSource, t: TypeRef): BtfType {
  let cur = resolve(src, t);
  if (cur.kind === "var") cur = resolve(src, cur.type);
  return cur;
}

/** Size in bytes of a value of this type. Throws BtfError for types without a size (void, func, fwd, ...). */
export function sizeof(src: TypeSource, t: TypeRef): number {
  let cur = toType(src, t);
  let mult = 1;
  for (let hops = 0; ; hops++) {
    if (hops > MAX_CHAIN) throw new BtfError(`type ${cur.id}: type chain loops`);
    switch (cur.kind) {
      case "int": case "enum": case "enum64": case "struct": case "union": case "float": case "datasec":
        return mult * cur.size;
      case "ptr":
        return mult * POINTER_SIZE;
      case "array":
        mult *= cur.nelems;
        cur = src.type(cur.type);
        break;
      case "typedef": case "volatile": case "const": case "restrict": case "type_tag": case "var":
        cur = src.type(cur.type);
        break;
      default:
        throw new BtfError(`type ${cur.id} (${cur.kind}${cur.name ? " " + cur.name : ""}) has no size`);
    }
  }
}

/** Alignments already computed, per source: struct graphs are DAGs, and recomputing shared parts is exponential. */
const alignMemo = new WeakMap<TypeSource, Map<number, number>>();

/**
 * Natural alignment in bytes. BTF records no explicit alignment, so a struct whose member offsets or size do not
 * fit the natural alignment is taken to be packed (alignment 1); `__attribute__((aligned(N)))` is not visible.
 */
export function alignof(src: TypeSource, t: TypeRef, depth = 0): number {
  if (depth > MAX_CHAIN) throw new BtfError("type nesting too deep");
  const cur = resolveValue(src, t);
  switch (cur.kind) {
    case "int": case "enum": case "enum64": case "float":
      return Math.min(cur.size, 16) || 1;
    case "ptr":
      return POINTER_SIZE;
    case "array":
      return alignof(src, cur.type, depth + 1);
    case "struct": case "union": {
      let memo = alignMemo.get(src);
      if (!memo) alignMemo.set(src, (memo = new Map()));
      const known = memo.get(cur.id);
      if (known !== undefined) return known;
      let align = 1;
      let packed = false;
      for (const m of cur.members) {
        const a = alignof(src, m.type, depth + 1);
        if (a > align) align = a;
        if (m.bitfieldSize === 0 && (m.bitOffset % 8 !== 0 || (m.bitOffset / 8) % a !== 0)) packed = true;
      }
      const result = packed || cur.size % align !== 0 ? 1 : align;
      memo.set(cur.id, result);
      return result;
    }
    case "datasec":
      return 1;
    default:
      throw new BtfError(`type ${cur.id} (${cur.kind}) has no alignment`);
  }
}

/** Element type id and total element count of an array type (multi-dimensional arrays are not flattened). */
export function arrayInfo(src: TypeSource, t: TypeRef): { elemType: number; count: number } {
  const cur = resolve(src, t);
  if (cur.kind !== "array") throw new BtfError(`type ${cur.id} is ${cur.kind}, not an array`);
  return { elemType: cur.type, count: cur.nelems };
}

/** Bound on anonymous-member visits: real types have a few; a malicious DAG of them would be exponential. */
export const MAX_ANON_VISITS = 100_000;

/** Member by name, looking into anonymous struct/union members; bit offset is relative to the outer struct. */
export function findMember(src: TypeSource, t: TypeRef, name: string): Member | undefined {
  let visits = 0;
  const search = (ref: TypeRef, depth: number): Member | undefined => {
    if (depth > MAX_CHAIN || ++visits > MAX_ANON_VISITS) throw new BtfError("anonymous members nest too deep");
    const cur = resolve(src, ref);
    if (cur.kind !== "struct" && cur.kind !== "union") return undefined;
    for (const m of cur.members) {
      if (m.name === name) return m;
      if (m.name === "") {
        const inner = search(m.type, depth + 1);
        if (inner) return { ...inner, bitOffset: inner.bitOffset + m.bitOffset };
      }
    }
    return undefined;
  };
  return search(t, 0);
}

/** Whether an INT (after resolve) is one of the `char` flavours: CHAR encoding or named char/signed char/unsigned char. */
export function isCharInt(t: BtfType): boolean {
  if (t.kind !== "int" || t.size !== 1) return false;
  return t.char || t.name === "char" || t.name === "signed char" || t.name === "unsigned char";
}
