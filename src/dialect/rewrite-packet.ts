// BCC's packet header access (issue 12): `struct ethernet_t *eth = cursor_advance(cursor, sizeof(*eth));`
// hands out packet offsets disguised as pointers (the cursor starts at 0), so `eth->type` must never be a memory
// read. Every field read of a packet header type (bcc/proto.h: packed structs marked deprecated("packet")) becomes
// `bpf_dext_pkt(ctx, offset, bit offset, bit size)` and every plain assignment `bpf_dins_pkt(...)`, with ctx the
// enclosing function's first parameter; both are defined in bcc/proto.h on top of load_byte/half/word and
// bpf_skb_store_bytes. Bit offsets count from the most significant bit, in wire order, as declared.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tsbccIncludeDir } from "./clang.js";
import { type AstNode, nodeRange, qualType } from "./ast.js";
import type { EditSet, Sub } from "./edits.js";

export interface PacketField {
  bitOffset: number;
  bitSize: number;
}
/** Packet struct name -> field name -> wire position. */
export type PacketLayouts = Map<string, Map<string, PacketField>>;

const BITS: Record<string, number> = { char: 8, short: 16, int: 32, long: 64, "long long": 64 };

function baseBits(type: string): number | undefined {
  const t = type.replace(/\b(unsigned|signed|const|volatile)\b/g, "").replace(/\bint\b(?=.*\b(short|long)\b)|(?<=\b(short|long)\b.*)\bint\b/g, "").trim().replace(/\s+/g, " ");
  if (t === "") return 32;
  const arr = /^(.*?)\s*\[(\d+)\]$/.exec(t);
  if (arr) {
    const b = baseBits(arr[1]!);
    return b === undefined ? undefined : b * Number(arr[2]);
  }
  return BITS[t] ?? ({ u8: 8, u16: 16, u32: 32, u64: 64, __u8: 8, __u16: 16, __u32: 32, __u64: 64 } as Record<string, number>)[t];
}

/** Lays out (name, type, bit width or undefined) fields in wire order: bit-fields back to back, others byte-aligned. */
function layout(fields: { name: string; type: string; width?: number }[]): Map<string, PacketField> | undefined {
  const out = new Map<string, PacketField>();
  let bit = 0;
  for (const f of fields) {
    const size = f.width ?? baseBits(f.type);
    if (size === undefined) return undefined;
    if (f.width === undefined) bit = Math.ceil(bit / 8) * 8;
    out.set(f.name, { bitOffset: bit, bitSize: size });
    bit += size;
  }
  return out;
}

/** Packet structs declared in the AST (packed + deprecated: BPF_PACKET_HEADER). */
function layoutsFromAst(ast: AstNode, into: PacketLayouts): void {
  for (const d of ast.inner ?? []) {
    if (d.kind !== "RecordDecl" || !d.name || !d.inner) continue;
    const kinds = new Set(d.inner.map((c) => c.kind));
    if (!kinds.has("PackedAttr") || !kinds.has("DeprecatedAttr")) continue;
    const fields = d.inner.filter((c) => c.kind === "FieldDecl").map((c) => {
      const w = (c as AstNode & { isBitfield?: boolean }).isBitfield ? Number((c.inner?.[0] as AstNode & { value?: string })?.value) : undefined;
      return { name: c.name ?? "", type: qualType(c), width: w };
    });
    const l = layout(fields);
    if (l) into.set(d.name, l);
  }
}

let protoLayouts: PacketLayouts | undefined;
/** The layouts of bcc/proto.h read from its text (the AST of a real-kernel-headers build holds only the user's file). */
function layoutsFromProtoH(): PacketLayouts {
  if (protoLayouts) return protoLayouts;
  protoLayouts = new Map();
  let text = "";
  try {
    text = readFileSync(join(tsbccIncludeDir(), "kernel", "bcc", "proto.h"), "utf8");
  } catch {
    return protoLayouts;
  }
  for (const m of text.matchAll(/struct\s+(\w+)\s*\{([^}]*)\}\s*BPF_PACKET_HEADER/g)) {
    const fields = [...m[2]!.matchAll(/([\w\s]+?)\s+(\w+)\s*(\[\d+\])?\s*(?::\s*(\d+))?\s*;/g)]
      .map((f) => ({ name: f[2]!, type: `${f[1]!.trim()}${f[3] ?? ""}`, width: f[4] ? Number(f[4]) : undefined }));
    const l = layout(fields);
    if (l) protoLayouts.set(m[1]!, l);
  }
  return protoLayouts;
}

export function packetLayouts(ast: AstNode): PacketLayouts {
  const out: PacketLayouts = new Map(layoutsFromProtoH());
  layoutsFromAst(ast, out);
  return out;
}

interface Fn {
  params: AstNode[];
  body: AstNode;
}

/** The packet field a `p->field` names, or undefined. */
function packetMember(n: AstNode, layouts: PacketLayouts): PacketField | undefined {
  if (n.kind !== "MemberExpr" || !(n as AstNode & { isArrow?: boolean }).isArrow || !n.name || !n.inner?.[0]) return undefined;
  const m = /^(?:const\s+)?struct\s+(\w+)\s*\*$/.exec(qualType(n.inner[0]).trim());
  return m ? layouts.get(m[1]!)?.get(n.name) : undefined;
}

/** Rewrites packet field reads and assignments in every function body. */
export function rewritePacketAccess(ast: AstNode, fns: Fn[], edits: EditSet, mainFile: string,
  report: (node: AstNode, severity: "error" | "warning", message: string) => void): void {
  const layouts = packetLayouts(ast);
  if (!layouts.size) return;
  for (const f of fns) {
    const ctx = f.params[0]?.name;
    const visit = (n: AstNode, inSizeof: boolean): void => {
      if (n.kind === "UnaryExprOrTypeTraitExpr") inSizeof = true;
      const lhs = n.inner?.[0];
      const assigned = !inSizeof && lhs && (n.kind === "BinaryOperator" || n.kind === "CompoundAssignOperator") ? packetMember(lhs, layouts) : undefined;
      if (assigned && lhs) {
        const op = (n as AstNode & { opcode?: string }).opcode;
        const r = nodeRange(n, mainFile), base = nodeRange(lhs.inner![0]!, mainFile), rhs = n.inner?.[1] && nodeRange(n.inner[1], mainFile);
        if (op !== "=" || n.kind !== "BinaryOperator") report(n, "error", `packet field ${lhs.name}: only plain assignment (=) is supported`);
        else if (!ctx) report(n, "error", `packet field ${lhs.name}: the function needs its context (skb) as first parameter`);
        else if (!r || !base || !rhs) report(n, "error", `packet field ${lhs.name}: cannot rewrite inside a macro`);
        else {
          const { bitOffset: b, bitSize: s } = assigned;
          edits.replace(r.begin, r.end, (sub: Sub) =>
            [`bpf_dins_pkt(${ctx}, (u64)(`, sub(base.begin, base.end), `) + ${b >> 3}, ${b & 7}, ${s}, `, sub(rhs.begin, rhs.end), ")"]);
        }
        for (const c of (lhs.inner ?? []).concat(n.inner!.slice(1))) visit(c, inSizeof);
        return;
      }
      const read = inSizeof ? undefined : packetMember(n, layouts);
      if (read) {
        const r = nodeRange(n, mainFile), base = nodeRange(n.inner![0]!, mainFile);
        if (!ctx) report(n, "error", `packet field ${n.name}: the function needs its context (skb) as first parameter`);
        else if (!r || !base) report(n, "error", `packet field ${n.name}: cannot rewrite inside a macro`);
        else if (read.bitSize > 64) report(n, "error", `packet field ${n.name} is ${read.bitSize} bits: only fields up to 64 bits can be read`);
        else {
          const { bitOffset: b, bitSize: s } = read;
          edits.replace(r.begin, r.end, (sub: Sub) => [`bpf_dext_pkt(${ctx}, (u64)(`, sub(base.begin, base.end), `) + ${b >> 3}, ${b & 7}, ${s})`]);
        }
      }
      for (const c of n.inner ?? []) visit(c, inSizeof);
    };
    visit(f.body, false);
  }
}
