// The BCC-dialect rewriter: clang's analyze-mode AST of the user's file in, edited user text out.
//
// Only declarations whose expansion location is in the user's file are visited. Edits (src/dialect/edits.ts)
// keep every user line on its line number, so the codegen text can start with `#line 1 "<file>"` and clang's
// own debug info (BTF line_info) points at the user's lines; columns are mapped back through the edit segments.

import {
  type AstNode, argRange, declFile, expansionBegin, expansionLoc, fileLoc, ignoreParensCasts, inMacroBody, invocationEnd, nodeRange,
  postfixChainStart, qualType, stringLiteralValue,
} from "./ast.js";
import { EditSet, type Piece, type Segment, type Sub } from "./edits.js";
import { blankCommentsAndStrings } from "./prescan.js";
import { sectionFor } from "../loader/sections.js";
import { checkPrintkFormat } from "./printk.js";
import { ProbeReadAnalysis, calleeDecl, type FunctionInput } from "./probe-reads.js";
import {
  EVENT_ARG, MethodError, SUPPORTED_KINDS, asMethodCall, isArrayKind, methodCode, readMapDecl, submittedType,
  type MapInfo, type MethodCall,
} from "./rewrite-maps.js";
import { rewritePacketAccess } from "./rewrite-packet.js";

// The section rule lives with the loader, its one owner; the dialect only emits it.
export { sectionFor };

export interface RewriteInput {
  /** The analyze-mode translation unit, locations normalized (ast.normalizeLocations). */
  ast: AstNode;
  /** The user's text as a binary string (one char per byte), as clang read it. */
  text: string;
  /** The path clang used for the user's file. */
  mainFile: string;
  /** Value of bpf_num_cpus(). */
  numCpus: number;
  /** `text` with comments and strings blanked (prescan.blankCommentsAndStrings); computed when absent. */
  blanked?: string;
}

export interface RewriteDiagnostic {
  /** Byte offset in the user's text. */
  offset: number;
  severity: "error" | "warning";
  message: string;
}

export interface ProgramFunction {
  name: string;
  section: string;
}

export interface RewriteOutput {
  /** The rewritten user text (binary string), line-for-line with the input. */
  text: string;
  segments: Segment[];
  functions: ProgramFunction[];
  /** Output map name -> C type of the submitted data. */
  events: Record<string, string>;
  /** Pinned map name -> pin path (BPF_TABLE_PINNED). */
  pinned: Record<string, string>;
  /** Map name -> "public" (BPF_TABLE_PUBLIC), "shared" (BPF_TABLE_SHARED) or "extern" (BPF_TABLE("extern", ...)). */
  shared: Record<string, "public" | "shared" | "extern">;
  maps: { name: string; kind: string }[];
  diagnostics: RewriteDiagnostic[];
}

const X86_REGS = ["di", "si", "dx", "cx", "r8", "r9"];
const X86_SYSCALL_REGS = ["di", "si", "dx", "r10", "r8", "r9"];
/** Macros that expand to a function head only: an attribute can go before the invocation. */
const HEAD_MACROS = new Set(["TRACEPOINT_PROBE", "RAW_TRACEPOINT_PROBE", "BPF_ITER"]);
/** Macros that set the section themselves (they expand to several declarations). */
const BTF_PROG_MACROS = new Set(["KFUNC_PROBE", "KRETFUNC_PROBE", "MODULE_KFUNC_PROBE", "MODULE_KRETFUNC_PROBE", "KMOD_RET", "LSM_PROBE"]);

interface FnInfo extends FunctionInput {
  name: string;
  isStatic: boolean;
}

/** A type text that can be repeated verbatim in generated code (no anonymous types, arrays or function types). */
function printableType(t: string): boolean {
  return /^[A-Za-z_][\w\s*]*$/.test(t) && !/\b(anonymous|unnamed)\b/.test(t);
}

export function rewriteProgram(input: RewriteInput): RewriteOutput {
  return new ProgramRewriter(input).run();
}

type Range = { begin: number; end: number };

/** One rewrite of one translation unit; each step is a method, run in order by run(). */
class ProgramRewriter {
  readonly text: string;
  readonly mainFile: string;
  readonly blanked: string;
  readonly edits: EditSet;
  readonly diagnostics: RewriteDiagnostic[] = [];
  readonly decls: AstNode[];
  readonly maps = new Map<string, MapInfo>();
  readonly fns: FnInfo[] = [];
  readonly fnById = new Map<string, FnInfo>();
  readonly functions: ProgramFunction[] = [];
  readonly events: Record<string, string> = {};

  constructor(readonly input: RewriteInput) {
    this.text = input.text;
    this.mainFile = input.mainFile;
    this.blanked = input.blanked ?? blankCommentsAndStrings(input.text);
    this.edits = new EditSet(input.text);
    this.decls = (input.ast.inner ?? []).filter((d) => d.range?.begin && declFile(d) === input.mainFile);
  }

  run(): RewriteOutput {
    this.readMaps();
    this.readFunctions();
    this.placePrograms();
    this.rewriteCalls();
    // packet header fields of bcc/proto.h cursor types (rewrite-packet.ts), before the implicit kernel reads
    rewritePacketAccess(this.input.ast, this.fns, this.edits, this.mainFile, (n, sev, msg) => this.report(n, sev, msg));
    this.rewriteProbeReads();
    const pinned: Record<string, string> = {};
    const shared: Record<string, "public" | "shared" | "extern"> = {};
    for (const m of this.maps.values()) {
      if (m.pinPath) pinned[m.name] = m.pinPath;
      if (m.share) shared[m.name] = m.share;
    }
    const rendered = this.edits.render();
    return {
      text: rendered.text, segments: rendered.segments, functions: this.functions, events: this.events, pinned, shared,
      maps: [...this.maps.values()].map((m) => ({ name: m.name, kind: m.kind })), diagnostics: this.diagnostics,
    };
  }

  report(node: AstNode | number | undefined, severity: "error" | "warning", message: string): void {
    let offset = 0;
    if (typeof node === "number") offset = node;
    else if (node) {
      const l = fileLoc(node.range?.begin ?? node.loc);
      offset = l?.file === this.mainFile && l.offset !== undefined ? l.offset : expansionBegin(node, this.mainFile) ?? 0;
    }
    this.diagnostics.push({ offset, severity, message });
  }

  range(node: AstNode): Range | undefined {
    return nodeRange(node, this.mainFile);
  }

  // ---- map declarations
  readMaps(): void {
    const records = new Map<string, AstNode>();
    for (const d of this.decls) if (d.kind === "RecordDecl" && d.name) records.set(d.name, d);
    for (const d of this.decls) {
      const m = readMapDecl(d, records);
      if (!m) continue;
      this.maps.set(m.declId, m);
      if (!SUPPORTED_KINDS.has(m.kind)) {
        this.report(d, "error", `unsupported map type "${m.kind}" for map ${m.name}`);
        continue;
      }
      if (m.kind === "histogram" && m.leafDesugared !== "unsigned long long") {
        this.report(d, "error", `histogram leaf type must be u64 (map ${m.name} has ${m.leafType})`);
      }
      // BPF_TABLE("hash", ...) spelled by the user: codegen mode wants the bare kind (dialect.h, maps).
      const kind = m.kindLiteral && this.range(m.kindLiteral);
      if (kind) this.edits.replaceOnce("kind", kind.begin, kind.end, () => [m.kind]);
      const inner = m.innerLiteral && m.innerMap ? this.range(m.innerLiteral) : undefined;
      if (inner) this.edits.replaceOnce("inner", inner.begin, inner.end, () => [m.innerMap!]);
    }
  }

  // ---- functions: program functions get sections, static ones always_inline
  readFunctions(): void {
    for (const d of this.decls) {
      if (d.kind !== "FunctionDecl" || !d.name) continue;
      const body = d.inner?.find((c) => c.kind === "CompoundStmt");
      const params = (d.inner ?? []).filter((c) => c.kind === "ParmVarDecl");
      const isStatic = d.storageClass === "static";
      if (!body) {
        if (isStatic) this.addAlwaysInline(d);
        continue;
      }
      const f: FnInfo = { decl: d, params, body, isProgram: !isStatic, name: d.name, isStatic };
      this.fns.push(f);
      this.fnById.set(d.id, f);
    }
  }

  addAlwaysInline(d: AstNode): void {
    if (inMacroBody(d.range?.begin)) return;
    const at = expansionBegin(d, this.mainFile);
    if (at !== undefined) this.edits.insert(at, "__attribute__((always_inline)) ");
  }

  placePrograms(): void {
    for (const f of this.fns) {
      if (f.isStatic) {
        this.addAlwaysInline(f.decl);
        continue;
      }
      const section = sectionFor(f.name, f.params[0] ? qualType(f.params[0]) : undefined);
      this.functions.push({ name: f.name, section });
      const at = expansionBegin(f.decl, this.mainFile);
      if (at === undefined) continue;
      if (inMacroBody(f.decl.range?.begin)) {
        const macro = /^\w+/.exec(this.text.slice(at, at + 64))?.[0] ?? "";
        if (BTF_PROG_MACROS.has(macro)) continue;
        if (!HEAD_MACROS.has(macro)) {
          this.report(f.decl, "warning", `program function ${f.name} is defined by macro ${macro}; its section attribute is placed before the macro`);
        }
      }
      this.edits.insert(at, `__attribute__((section("${section}"), used)) `);
      this.rewriteRegisterParams(f);
    }
  }

  /** kprobe-style extra parameters become locals read from the context's registers (bcc-spec 1.1). */
  rewriteRegisterParams(f: FnInfo): void {
    const [ctx, ...extra] = f.params;
    if (!ctx || extra.length === 0 || qualType(ctx) !== "struct pt_regs *") return;
    if (extra.length > 6) return this.report(extra[6], "error", "too many arguments, bcc only supports in-register parameters");
    const unnamed = extra.find((p) => !p.name);
    if (unnamed || !ctx.name) return this.report(unnamed ?? ctx, "error", "arguments to BPF program definition must be named");
    const r0 = this.range(ctx);
    const rLast = this.range(extra[extra.length - 1]!);
    const rBody = this.range(f.body);
    if (!r0 || !rLast || !rBody) return this.report(f.decl, "error", `cannot rewrite the parameters of ${f.name}: its head comes from a macro`);
    const used = new Set<string>();
    walkNodes(f.body, (n) => {
      if (n.kind === "DeclRefExpr" && n.referencedDecl) used.add(n.referencedDecl.id);
    });
    const syscall = f.name.startsWith("syscall__") || f.name.startsWith("kprobe____x64_sys_");
    const regs = syscall ? X86_SYSCALL_REGS : X86_REGS;
    const c = ctx.name;
    let decl = "";
    const usedParams = extra.map((p, i) => ({ p, reg: regs[i]! })).filter(({ p }) => used.has(p.id));
    if (syscall && usedParams.length) decl += ` struct pt_regs *__tsbcc_sc = (struct pt_regs *)${c}->di;`;
    for (const { p, reg } of usedParams) {
      const r = this.range(p)!;
      const ptext = this.text.slice(r.begin, r.end).replace(/\s+/g, " ");
      decl += syscall
        ? ` ${ptext}; bpf_probe_read_kernel(&${p.name}, sizeof(${p.name}), &__tsbcc_sc->${reg});`
        : ` ${ptext} = (__typeof__(${p.name}))${c}->${reg};`;
    }
    this.edits.replace(r0.end, rLast.end, () => []);
    if (decl) this.edits.insert(rBody.begin + 1, decl);
  }

  // ---- calls: map methods, printk, checksum updates, bpf_num_cpus, calls of program functions
  rewriteCalls(): void {
    for (const f of this.fns) {
      walkNodes(f.body, (n) => {
        if (n.kind !== "CallExpr") return;
        const m = asMethodCall(n, this.maps);
        if (m) return this.rewriteMethod(m);
        const callee = calleeDecl(n);
        if (!callee) return;
        if (callee.name === "bpf_trace_printk") return this.rewritePrintk(n);
        if (callee.name === "incr_cksum_l3" || callee.name === "incr_cksum_l4") return this.rewriteChecksum(n, callee.name, f);
        if (callee.name === "bpf_num_cpus") {
          const r = this.range(n);
          if (r) this.edits.replace(r.begin, r.end, () => [String(this.input.numCpus)]);
          else this.report(n, "error", "cannot rewrite bpf_num_cpus() inside a macro");
          return;
        }
        const target = this.fnById.get(callee.id);
        if (target && !target.isStatic) this.report(n, "error", `cannot call non-static helper function ${target.name}; make it static`);
      });
    }
  }

  /** Argument ranges inside the call's range, in order and disjoint (else undefined). */
  argRanges(call: AstNode, args: AstNode[]): Range[] | undefined {
    const c = this.range(call);
    if (!c) return undefined;
    const out: Range[] = [];
    let pos = c.begin;
    for (const a of args) {
      const r = argRange(a, this.mainFile, this.blanked);
      if (!r || r.begin < pos || r.end > c.end) return undefined;
      out.push(r);
      pos = r.end;
    }
    return out;
  }

  rewriteMethod(m: MethodCall): void {
    const r = this.range(m.call);
    const ar = this.argRanges(m.call, m.args);
    if (!r || !ar) return this.report(m.call, "error", `cannot use map function ${m.method} of ${m.map.name} inside a macro`);
    if (m.method === "insert" && isArrayKind(m.map.kind)) {
      this.report(m.call, "warning", `all elements of an array already exist; insert() will have no effect (map ${m.map.name})`);
    }
    const evArg = EVENT_ARG[m.method];
    if (evArg !== undefined && m.args[evArg]) {
      const t = submittedType(m.args[evArg]!);
      if (t && !this.events[m.map.name]) this.events[m.map.name] = t;
    }
    try {
      // Validate eagerly so the error points at the call.
      methodCode(m, () => ({ sub: true, begin: r.begin, end: r.begin }));
    } catch (err) {
      if (err instanceof MethodError) return this.report(m.call, "error", err.message);
      throw err;
    }
    this.edits.replace(r.begin, r.end, (sub: Sub) => methodCode(m, (i) => sub(ar[i]!.begin, ar[i]!.end)));
  }

  rewritePrintk(call: AstNode): void {
    const args = call.inner!.slice(1);
    const r = this.range(call);
    const ar = this.argRanges(call, args);
    if (!r || !ar || !args.length) return this.report(call, "error", "cannot rewrite bpf_trace_printk inside a macro");
    const fmtNode = ignoreParensCasts(args[0]!);
    const fmt = fmtNode.kind === "StringLiteral" && typeof fmtNode.value === "string" ? stringLiteralValue(fmtNode.value) : undefined;
    if (fmt !== undefined) {
      for (const p of checkPrintkFormat(fmt, args.length - 1)) this.report(call, p.severity, p.message);
    }
    this.edits.replace(r.begin, r.end, (sub: Sub) => {
      const rest: Piece[] = [];
      for (let i = 1; i < args.length; i++) rest.push(", ", sub(ar[i]!.begin, ar[i]!.end));
      if (fmt !== undefined) {
        return ["({ char __tsbcc_fmt[] = ", sub(ar[0]!.begin, ar[0]!.end), "; __tsbcc_libbpf_trace_printk(__tsbcc_fmt, sizeof(__tsbcc_fmt)", ...rest, "); })"];
      }
      return ["__tsbcc_libbpf_trace_printk(", sub(ar[0]!.begin, ar[0]!.end), ", sizeof(", sub(ar[0]!.begin, ar[0]!.end, true), ")", ...rest, ")"];
    });
  }

  /**
   * incr_cksum_l3(off, from, to) and incr_cksum_l4(off, from, to, pseudo) (BCC's helper header): the checksum
   * helpers on the function's context (its first parameter), the size of `to` and, for L4, the pseudo-header bit.
   */
  rewriteChecksum(call: AstNode, name: string, f: FnInfo): void {
    const args = call.inner!.slice(1);
    const l4 = name === "incr_cksum_l4";
    const want = l4 ? 4 : 3;
    if (args.length !== want) return this.report(call, "error", `${name} takes ${want} arguments, got ${args.length}`);
    const ctx = f.params[0]?.name;
    if (!ctx) return this.report(call, "error", `${name} needs the program's context: ${f.name} has no named first parameter`);
    const r = this.range(call);
    const ar = this.argRanges(call, args);
    if (!r || !ar) return this.report(call, "error", `cannot rewrite ${name} inside a macro`);
    this.edits.replace(r.begin, r.end, (sub: Sub) => {
      const a = (i: number): Piece[] => ["(", sub(ar[i]!.begin, ar[i]!.end), ")"];
      const size: Piece[] = ["sizeof(", sub(ar[2]!.begin, ar[2]!.end, true), ")"];
      const flags: Piece[] = l4 ? ["(((", sub(ar[3]!.begin, ar[3]!.end), ") & 0x1) << 4) | ", ...size] : size;
      return [`bpf_${l4 ? "l4" : "l3"}_csum_replace(${ctx}, (__u64)`, ...a(0), ", ", ...a(1), ", ", ...a(2), ", ", ...flags, ")"];
    });
  }

  /**
   * The user-text range of a kernel read. `inet->inet_sport` where inet_sport is a kernel macro
   * (sk.__sk_common...): the read ends inside an object-like macro the user spelled last, so the whole
   * invocation belongs to it. `ntohs(sk->sk_dport)`: the macro's own parentheses around its argument are
   * not user text, the argument inside them is. `TCP_SKB_CB(skb)->seq`: the read starts with a macro
   * invocation that ends before the member the user spelled, so the invocation is part of it.
   */
  readRange(L: AstNode): { node: AstNode; range: Range } | undefined {
    const r = argRange(L, this.mainFile, this.blanked, false);
    if (r) return { node: L, range: r };
    if (L.kind === "ParenExpr" && L.inner?.length === 1) return this.readRange(L.inner[0]!);
    const begin = L.range?.begin;
    const endLoc = L.range?.end;
    const b = fileLoc(begin);
    const e = fileLoc(endLoc);
    if (!begin || !endLoc) return undefined;
    // `sk->sk_dport` as a macro argument: the end is in the alias macro's body; the user's text has the chain.
    if (b?.file === this.mainFile && b.offset !== undefined && e?.file !== this.mainFile && !inMacroBody(begin)) {
      const chain = /^\w+(?:\s*(?:->|\.)\s*\w+|\s*\[[^\]]*\])*/.exec(this.blanked.slice(b.offset, b.offset + 512));
      return chain && /->|\.|\[/.test(chain[0]) ? { node: L, range: { begin: b.offset, end: b.offset + chain[0].length } } : undefined;
    }
    if (e?.file !== this.mainFile || e.offset === undefined) return undefined;
    // The end: the member the user spelled, or the whole object-like macro it comes from (`inet_dport`).
    const endX = inMacroBody(endLoc) ? expansionLoc(endLoc) : undefined;
    if (endX && (endX.file !== this.mainFile || endX.offset === undefined)) return undefined;
    const endTok = endX ? endX.offset! : e.offset;
    const stop = endX ? invocationEnd(this.blanked, endX.offset!) : e.offset + (e.tokLen ?? 0);
    const at = inMacroBody(begin) ? expansionBegin(L, this.mainFile) : undefined;
    if (at !== undefined && at < endTok && invocationEnd(this.blanked, at) <= endTok) return { node: L, range: { begin: at, end: stop } };
    // Nested: `ntohs(tcp_hdr(skb)->dest)`; the user's text of the read is the postfix chain ending at the member.
    const from = postfixChainStart(this.blanked, stop);
    return from < endTok && this.blanked.slice(from, endTok).includes("(") ? { node: L, range: { begin: from, end: stop } } : undefined;
  }

  // ---- implicit kernel reads
  rewriteProbeReads(): void {
    const statics = new Map([...this.fnById].filter(([, f]) => f.isStatic));
    const analysis = new ProbeReadAnalysis(this.fns, this.maps, statics);
    for (const site of analysis.run()) {
      const found = this.readRange(site.lvalue);
      const L = found?.node ?? site.lvalue;
      const r = found?.range;
      if (!r) {
        this.report(L, "warning", "kernel memory read inside a macro is not rewritten; use bpf_probe_read_kernel()");
        continue;
      }
      const t = unqualified(qualType(L));
      const inner = ignoreParensCasts(L);
      this.edits.replaceOnce("read", r.begin, r.end, (sub: Sub) => {
        const type: Piece[] = printableType(t) ? [t] : ["__typeof__(", sub(r.begin, r.end, true), ")"];
        const operand = inner.kind === "UnaryOperator" && inner.opcode === "*" && L.kind !== "ParenExpr" ? inner.inner?.[0] : undefined;
        const or = operand ? this.range(operand) : undefined;
        const addr: Piece[] = or ? ["(", sub(or.begin, or.end), ")"] : ["&(", sub(r.begin, r.end), ")"];
        return [
          "({ ", ...type, " __tsbcc_val; __builtin_memset(&__tsbcc_val, 0, sizeof(__tsbcc_val)); bpf_probe_read_kernel(&__tsbcc_val, sizeof(__tsbcc_val), (void *)",
          ...addr, "); __tsbcc_val; })",
        ];
      });
    }
  }
}

/** Drops top-level const/volatile (the temporary is written by the helper): `const char` -> `char`. */
function unqualified(t: string): string {
  if (/\*\s*(const|volatile)(\s+(const|volatile))*\s*$/.test(t)) return t.replace(/\s*(const|volatile)(\s+(const|volatile))*\s*$/, "");
  if (t.endsWith("*")) return t;
  return t.replace(/^((const|volatile)\s+)+/, "");
}

function walkNodes(node: AstNode, fn: (n: AstNode) => void): void {
  fn(node);
  for (const c of node.inner ?? []) walkNodes(c, fn);
}
