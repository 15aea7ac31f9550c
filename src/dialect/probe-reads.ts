// Implicit kernel-memory reads (bcc-spec 2c), computed on clang's typed AST.
//
// A pointer is *external* when it points to kernel memory that BPF code may not dereference directly. The
// analysis tracks, for declarations (variables, parameters, functions' return values) and map values, a *level*:
// the number of dereferences after which the value is an external pointer (0: the value itself is one; 1: it
// points to stack/map memory holding one, e.g. `struct sock **skpp = currsock.lookup(&pid)`).
//
// Reads are found exactly where clang put an LValueToRValue conversion on an lvalue that lies in external memory
// (`p->m`, `p->m.n`, `*p`, `p[i]` with p external). Address-of (`&p->m`) and array decay (`p->arr`) have no such
// conversion, so they are never read. `p->ptr_member[i]` reads the member first (its conversion) and then element
// i of the pointed-to memory; `p->array_member[i]` reads element i at its real address: the generated code takes
// the address of the whole subscript expression, so clang computes it with the right element size.
//
// The source argument of bpf_probe_read*(dst, size, src) is an address: the object it designates is never read
// (there is no conversion on it), while reads needed to compute it are (`task->real_parent->comm` reads
// task->real_parent; BCC skips the whole argument of bpf_probe_read, which breaks such chains, bcc#1973).
//
// Seeds: non-context pointer parameters of program functions; values read from the context (`ctx->di`,
// `args->skbaddr`, `ctx->args[1]`), which are kernel addresses; `bpf_get_current_task()`; the destination of a
// `bpf_probe_read*(&p, ...)`. Propagation: initializers and assignments, `&`/`*`, pointer arithmetic, casts,
// static function arguments/parameters and return values, map values stored with update/insert and read back
// with lookup*. The whole program is iterated to a fixpoint.

import { type AstNode, ignoreParens, ignoreParensCasts, isPointerType, qualType } from "./ast.js";
import { LOOKUP_METHODS, asMethodCall, type MapInfo } from "./rewrite-maps.js";

export const CTX_TYPES = ["struct pt_regs *", "struct bpf_raw_tracepoint_args *"];

export function isContextType(t: string): boolean {
  return CTX_TYPES.includes(t) || /^struct tracepoint__\w+ \*$/.test(t);
}

const PROBE_READS = new Set([
  "bpf_probe_read", "bpf_probe_read_kernel", "bpf_probe_read_user", "bpf_probe_read_str", "bpf_probe_read_kernel_str",
  "bpf_probe_read_user_str",
]);

interface LvInfo {
  /** The lvalue lies in external memory: reading it needs a probe read. */
  ext: boolean;
  /** Level of the value stored there (see the file comment). */
  level?: number;
  /** The lvalue is (part of) the program context: direct access, values are kernel addresses. */
  ctx?: boolean;
}

export interface FunctionInput {
  decl: AstNode;
  params: AstNode[];
  body: AstNode;
  isProgram: boolean;
}

export interface ReadSite {
  /** The external lvalue whose value is read. */
  lvalue: AstNode;
  /** The LValueToRValue conversion. */
  cast: AstNode;
}

export class ProbeReadAnalysis {
  private readonly levels = new Map<string, number>();
  private readonly mapLevels = new Map<string, number>();
  private readonly ctxDecls = new Set<string>();
  private changed = false;

  constructor(
    private readonly functions: FunctionInput[],
    private readonly maps: Map<string, MapInfo>,
    /** FunctionDecl id -> function, for static helpers defined in the file. */
    private readonly byId: Map<string, FunctionInput>,
  ) {}

  run(): ReadSite[] {
    for (const f of this.functions) {
      if (!f.isProgram) continue;
      const [first, ...rest] = f.params;
      if (first && isContextType(qualType(first))) this.ctxDecls.add(first.id);
      for (const p of rest) if (isPointerType(qualType(p))) this.raise(p.id, 0);
    }
    for (let i = 0; i < 20; i++) {
      this.changed = false;
      for (const f of this.functions) this.propagate(f.body, f);
      if (!this.changed) break;
    }
    const sites: ReadSite[] = [];
    for (const f of this.functions) this.collect(f.body, sites);
    return sites;
  }

  /** The level recorded for a declaration (tests and diagnostics). */
  levelOf(declId: string): number | undefined {
    return this.levels.get(declId);
  }

  /**
   * Records that `id` holds a value of `level`. When sources disagree the lowest level wins: treating a pointer
   * as "more external" than it is only turns direct loads into probe reads (which also read BPF stack and map
   * memory), while the reverse leaves a kernel load the verifier rejects. virtiostat passes both `sgs` (kernel
   * memory) and `&sg` (stack) to one static helper.
   */
  private raise(id: string | undefined, level: number | undefined): void {
    if (id === undefined || level === undefined || level < 0) return;
    const old = this.levels.get(id);
    if (old === undefined || level < old) {
      this.levels.set(id, level);
      this.changed = true;
    }
  }

  private markCtx(id: string): void {
    if (!this.ctxDecls.has(id)) {
      this.ctxDecls.add(id);
      this.changed = true;
    }
  }

  private propagate(node: AstNode, fn: FunctionInput): void {
    switch (node.kind) {
      case "VarDecl": {
        const init = node.inner?.find((c) => c.kind !== "TypedefType" && c.kind !== "ElaboratedType" && isExpr(c));
        if (init && node.init) this.raise(node.id, this.rv(init));
        break;
      }
      case "BinaryOperator":
        if (node.opcode === "=" && node.inner?.length === 2) this.assign(node.inner[0]!, this.rv(node.inner[1]!));
        break;
      case "ReturnStmt":
        if (node.inner?.length) this.raise(fn.decl.id, this.rv(node.inner[0]!));
        break;
      case "CallExpr":
        this.call(node);
        break;
    }
    for (const c of node.inner ?? []) this.propagate(c, fn);
  }

  private assign(lhs: AstNode, level: number | undefined): void {
    if (level === undefined) return;
    const l = ignoreParens(lhs);
    if (l.kind === "DeclRefExpr" && l.referencedDecl) this.raise(l.referencedDecl.id, level);
    else if (l.kind === "MemberExpr" && l.referencedMemberDecl) {
      // `val.fp = file`: the field holds an external pointer wherever the struct goes (maps included).
      this.raise(l.referencedMemberDecl, level);
    } else if (l.kind === "UnaryOperator" && l.opcode === "*") {
      const q = ignoreParensCasts(l.inner![0]!);
      if (q.kind === "DeclRefExpr" && q.referencedDecl) this.raise(q.referencedDecl.id, level + 1);
    }
  }

  private call(node: AstNode): void {
    const m = asMethodCall(node, this.maps);
    if (m) {
      if ((m.method === "update" || m.method === "insert") && m.args.length >= 2) {
        const lvl = this.rv(m.args[1]!);
        if (lvl !== undefined) {
          const old = this.mapLevels.get(m.map.declId);
          if (old === undefined || lvl < old) {
            this.mapLevels.set(m.map.declId, lvl);
            this.changed = true;
          }
        }
      }
      return;
    }
    const callee = calleeDecl(node);
    if (!callee) return;
    const args = node.inner!.slice(1);
    if (PROBE_READS.has(callee.name ?? "") && args.length >= 1) {
      // bpf_probe_read*(&p, sizeof(p), src): p now holds a value read from kernel memory.
      const dst = ignoreParensCasts(args[0]!);
      if (dst.kind === "UnaryOperator" && dst.opcode === "&") {
        const v = ignoreParens(dst.inner![0]!);
        if (v.kind === "DeclRefExpr" && v.referencedDecl && isPointerType(v.referencedDecl.type?.qualType ?? "")) {
          this.raise(v.referencedDecl.id, 0);
        }
      }
      return;
    }
    const target = this.byId.get(callee.id);
    if (!target) return;
    args.forEach((a, i) => {
      const p = target.params[i];
      if (!p) return;
      if (this.isCtxValue(a)) this.markCtx(p.id);
      else this.raise(p.id, this.rv(a));
    });
  }

  private isCtxValue(e: AstNode): boolean {
    const n = ignoreParensCasts(e);
    return n.kind === "DeclRefExpr" && !!n.referencedDecl && this.ctxDecls.has(n.referencedDecl.id);
  }

  /** Level of an rvalue expression, undefined when it is not tracked. */
  rv(e: AstNode): number | undefined {
    switch (e.kind) {
      case "ParenExpr":
        return e.inner?.length ? this.rv(e.inner[0]!) : undefined;
      case "ImplicitCastExpr": {
        const sub = e.inner?.[0];
        if (!sub) return undefined;
        if (e.castKind === "LValueToRValue") {
          const l = this.lv(sub);
          return l.ext ? 0 : l.level;
        }
        if (e.castKind === "ArrayToPointerDecay") {
          const l = this.lv(sub);
          return l.ext ? 0 : undefined;
        }
        if (e.castKind === "FunctionToPointerDecay") return undefined;
        return this.rv(sub);
      }
      case "CStyleCastExpr":
        return e.inner?.length ? this.rv(e.inner[0]!) : undefined;
      case "StmtExpr": {
        // `({ ...; value; })` (kernel-header macros such as skb_network_header): the last statement's value.
        const stmts = e.inner?.[0]?.inner;
        return stmts?.length ? this.rv(stmts[stmts.length - 1]!) : undefined;
      }
      case "UnaryOperator": {
        if (e.opcode !== "&" || !e.inner?.length) return undefined;
        const l = this.lv(e.inner[0]!);
        if (l.ext) return 0;
        return l.level === undefined ? undefined : l.level + 1;
      }
      case "BinaryOperator": {
        const [a, b] = e.inner ?? [];
        if (!a || !b) return undefined;
        if (e.opcode === "," || e.opcode === "=") return this.rv(b);
        if (e.opcode === "+" || e.opcode === "-") {
          // Address arithmetic, also through integers: `(u8 *)((u64)&sk->field - 3)` (bindsnoop).
          if (isPointerType(qualType(a)) || !isPointerType(qualType(b))) {
            const x = this.rv(a);
            if (x === 0) return 0;
          }
          if (e.opcode === "+" && (isPointerType(qualType(b)) || !isPointerType(qualType(a)))) {
            const y = this.rv(b);
            if (y === 0) return 0;
          }
          return isPointerType(qualType(a)) ? this.rv(a) : undefined;
        }
        return undefined;
      }
      case "ConditionalOperator": {
        const x = e.inner?.[1] ? this.rv(e.inner[1]) : undefined;
        const y = e.inner?.[2] ? this.rv(e.inner[2]) : undefined;
        if (x === undefined) return y;
        if (y === undefined) return x;
        return Math.max(x, y);
      }
      case "CallExpr": {
        const m = asMethodCall(e, this.maps);
        if (m) return LOOKUP_METHODS.has(m.method) ? this.mapLevels.get(m.map.declId) : undefined;
        const callee = calleeDecl(e);
        if (!callee) return undefined;
        if (callee.name === "bpf_get_current_task") return 0;
        return this.levels.get(callee.id);
      }
      default:
        return undefined;
    }
  }

  /** What an lvalue expression designates. */
  lv(e: AstNode): LvInfo {
    switch (e.kind) {
      case "ParenExpr":
        return e.inner?.length ? this.lv(e.inner[0]!) : { ext: false };
      case "DeclRefExpr": {
        const id = e.referencedDecl?.id;
        if (!id) return { ext: false };
        const level = this.levels.get(id);
        return level === undefined ? { ext: false } : { ext: false, level };
      }
      case "MemberExpr": {
        const base = e.inner?.[0];
        if (!base) return { ext: false };
        if (e.isArrow) {
          if (this.isCtxValue(base)) return { ext: false, ctx: true, level: 0 };
          const r = this.rv(base);
          if (r === 0) return { ext: true, level: 0 };
          if (r !== undefined && r > 0) return { ext: false, level: r - 1 };
          return this.field(e);
        }
        const l = this.lv(base);
        if (l.ext) return { ext: true, level: 0 };
        if (l.ctx) return { ext: false, ctx: true, level: 0 };
        return this.field(e);
      }
      case "UnaryOperator": {
        if (e.opcode !== "*" || !e.inner?.length) return { ext: false };
        const r = this.rv(e.inner[0]!);
        if (r === 0) return { ext: true, level: 0 };
        if (r !== undefined && r > 0) return { ext: false, level: r - 1 };
        return { ext: false };
      }
      case "ArraySubscriptExpr": {
        const base = subscriptBase(e);
        if (!base) return { ext: false };
        const b = ignoreParens(base);
        if (b.kind === "ImplicitCastExpr" && b.castKind === "ArrayToPointerDecay" && b.inner?.length) {
          const l = this.lv(b.inner[0]!);
          if (l.ctx) return { ext: false, ctx: true, level: 0 };
        }
        const r = this.rv(base);
        if (r === 0) return { ext: true, level: 0 };
        if (r !== undefined && r > 0) return { ext: false, level: r - 1 };
        return { ext: false };
      }
      default:
        return { ext: false };
    }
  }

  /** A member of non-external memory: its field may have been marked by an assignment. */
  private field(e: AstNode): LvInfo {
    const level = e.referencedMemberDecl ? this.levels.get(e.referencedMemberDecl) : undefined;
    return level === undefined ? { ext: false } : { ext: false, level };
  }

  private collect(node: AstNode, out: ReadSite[]): void {
    switch (node.kind) {
      case "UnaryExprOrTypeTraitExpr": // sizeof/alignof operands are not evaluated
      case "OffsetOfExpr":
        return;
      case "ImplicitCastExpr":
        if (node.castKind === "LValueToRValue" && node.inner?.length) {
          const sub = node.inner[0]!;
          if (this.lv(sub).ext) out.push({ lvalue: sub, cast: node });
        }
        break;
    }
    for (const c of node.inner ?? []) this.collect(c, out);
  }
}

/** The base (pointer-typed) operand of a subscript; clang also accepts `i[p]`. */
export function subscriptBase(e: AstNode): AstNode | undefined {
  const [a, b] = e.inner ?? [];
  if (!a || !b) return undefined;
  if (isPointerType(qualType(a))) return a;
  if (isPointerType(qualType(b))) return b;
  return a;
}

/** The FunctionDecl (or function-pointer VarDecl, for libbpf helpers) a call refers to. */
export function calleeDecl(call: AstNode): { id: string; name?: string; kind: string } | undefined {
  const c = call.inner?.[0];
  if (!c) return undefined;
  const n = ignoreParensCasts(c);
  if (n.kind !== "DeclRefExpr" || !n.referencedDecl) return undefined;
  const d = n.referencedDecl;
  return d.name === undefined ? { id: d.id, kind: d.kind } : { id: d.id, name: d.name, kind: d.kind };
}

const NON_EXPR = new Set(["TypedefType", "ElaboratedType", "RecordType", "BuiltinType", "PointerType", "FullComment", "AlignedAttr", "UnusedAttr", "SectionAttr", "UsedAttr", "AnnotateAttr"]);
function isExpr(n: AstNode): boolean {
  return !NON_EXPR.has(n.kind) && !n.kind.endsWith("Attr") && !n.kind.endsWith("Comment");
}
