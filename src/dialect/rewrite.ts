// The BCC-dialect rewriter: clang's analyze-mode AST of the user's file in, edited user text out.
//
// Only declarations whose expansion location is in the user's file are visited. Edits (src/dialect/edits.ts)
// keep every user line on its line number, so the codegen text can start with `#line 1 "<file>"` and clang's
// own debug info (BTF line_info) points at the user's lines; columns are mapped back through the edit segments.

import {
  type AstNode, argRange, declFile, expansionBegin, fileLoc, ignoreParensCasts, inMacroBody, nodeRange, qualType,
  stringLiteralValue,
} from "./ast.js";
import { EditSet, type Piece, type Segment, type Sub } from "./edits.js";
import { blankCommentsAndStrings } from "./prescan.js";
import { sectionFor } from "../loader/sections.js";
import { checkPrintkFormat } from "./printk.js";
import { ProbeReadAnalysis, calleeDecl, type FunctionInput } from "./probe-reads.js";
import {
  EVENT_ARG, MethodError, SUPPORTED_KINDS, asMethodCall, isArrayKind, methodCode, readMapDecl, submittedType,
  type MapInfo,
} from "./rewrite-maps.js";

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
  maps: { name: string; kind: string }[];
  diagnostics: RewriteDiagnostic[];
}

const X86_REGS = ["di", "si", "dx", "cx", "r8", "r9"];
const X86_SYSCALL_REGS = ["di", "si", "dx", "r10", "r8", "r9"];
/** Macros that expand to a function head only: an attribute can go before the invocation. */
const HEAD_MACROS = new Set(["TRACEPOINT_PROBE", "RAW_TRACEPOINT_PROBE", "BPF_ITER"]);
/** Macros that set the section themselves (they expand to several declarations). */
const BTF_PROG_MACROS = new Set(["KFUNC_PROBE", "KRETFUNC_PROBE", "MODULE_KFUNC_PROBE", "MODULE_KRETFUNC_PROBE", "KMOD_RET", "LSM_PROBE"]);

// The section rule lives with the loader, its one owner; the dialect only emits it.
export { sectionFor };

interface FnInfo extends FunctionInput {
  name: string;
  isStatic: boolean;
}

/** A type text that can be repeated verbatim in generated code (no anonymous types, arrays or function types). */
function printableType(t: string): boolean {
  return /^[A-Za-z_][\w\s*]*$/.test(t) && !/\b(anonymous|unnamed)\b/.test(t);
}

export function rewriteProgram(input: RewriteInput): RewriteOutput {
  const { ast, text, mainFile } = input;
  const blanked = input.blanked ?? blankCommentsAndStrings(text);
  const edits = new EditSet(text);
  const diagnostics: RewriteDiagnostic[] = [];
  const report = (node: AstNode | number | undefined, severity: "error" | "warning", message: string): void => {
    let offset = 0;
    if (typeof node === "number") offset = node;
    else if (node) {
      const l = fileLoc(node.range?.begin ?? node.loc);
      offset = l?.file === mainFile && l.offset !== undefined ? l.offset : expansionBegin(node, mainFile) ?? 0;
    }
    diagnostics.push({ offset, severity, message });
  };

  // ---- user declarations
  const decls = (ast.inner ?? []).filter((d) => d.range?.begin && declFile(d) === mainFile);
  const records = new Map<string, AstNode>();
  for (const d of decls) if (d.kind === "RecordDecl" && d.name) records.set(d.name, d);

  const maps = new Map<string, MapInfo>();
  for (const d of decls) {
    const m = readMapDecl(d, records);
    if (!m) continue;
    maps.set(m.declId, m);
    if (!SUPPORTED_KINDS.has(m.kind)) {
      report(d, "error", `unsupported map type "${m.kind}" for map ${m.name}`);
      continue;
    }
    if (m.kind === "histogram" && m.leafDesugared !== "unsigned long long") {
      report(d, "error", `histogram leaf type must be u64 (map ${m.name} has ${m.leafType})`);
    }
    // BPF_TABLE("hash", ...) spelled by the user: codegen mode wants the bare kind (dialect.h, maps).
    if (m.kindLiteral) {
      const r = nodeRange(m.kindLiteral, mainFile);
      if (r) edits.replaceOnce("kind", r.begin, r.end, () => [m.kind]);
    }
    if (m.innerLiteral && m.innerMap) {
      const r = nodeRange(m.innerLiteral, mainFile);
      const inner = m.innerMap;
      if (r) edits.replaceOnce("inner", r.begin, r.end, () => [inner]);
    }
  }

  const fns: FnInfo[] = [];
  const fnById = new Map<string, FnInfo>();
  for (const d of decls) {
    if (d.kind !== "FunctionDecl" || !d.name) continue;
    const body = d.inner?.find((c) => c.kind === "CompoundStmt");
    const params = (d.inner ?? []).filter((c) => c.kind === "ParmVarDecl");
    const isStatic = d.storageClass === "static";
    if (!body) {
      if (isStatic) addAlwaysInline(d);
      continue;
    }
    const f: FnInfo = { decl: d, params, body, isProgram: !isStatic, name: d.name, isStatic };
    fns.push(f);
    fnById.set(d.id, f);
  }
  function addAlwaysInline(d: AstNode): void {
    if (inMacroBody(d.range?.begin)) return;
    const at = expansionBegin(d, mainFile);
    if (at !== undefined) edits.insert(at, "__attribute__((always_inline)) ");
  }

  // ---- program functions: sections, register parameters
  const functions: ProgramFunction[] = [];
  for (const f of fns) {
    if (f.isStatic) {
      addAlwaysInline(f.decl);
      continue;
    }
    const section = sectionFor(f.name);
    functions.push({ name: f.name, section });
    const at = expansionBegin(f.decl, mainFile);
    if (at === undefined) continue;
    if (inMacroBody(f.decl.range?.begin)) {
      const macro = /^\w+/.exec(text.slice(at, at + 64))?.[0] ?? "";
      if (BTF_PROG_MACROS.has(macro)) continue;
      if (!HEAD_MACROS.has(macro)) {
        report(f.decl, "warning", `program function ${f.name} is defined by macro ${macro}; its section attribute is placed before the macro`);
      }
    }
    edits.insert(at, `__attribute__((section("${section}"), used)) `);
    rewriteRegisterParams(f);
  }

  function rewriteRegisterParams(f: FnInfo): void {
    const [ctx, ...extra] = f.params;
    if (!ctx || extra.length === 0 || qualType(ctx) !== "struct pt_regs *") return;
    if (extra.length > 6) {
      report(extra[6], "error", "too many arguments, bcc only supports in-register parameters");
      return;
    }
    const unnamed = extra.find((p) => !p.name);
    if (unnamed || !ctx.name) {
      report(unnamed ?? ctx, "error", "arguments to BPF program definition must be named");
      return;
    }
    const r0 = nodeRange(ctx, mainFile);
    const rLast = nodeRange(extra[extra.length - 1]!, mainFile);
    const rBody = nodeRange(f.body, mainFile);
    if (!r0 || !rLast || !rBody) {
      report(f.decl, "error", `cannot rewrite the parameters of ${f.name}: its head comes from a macro`);
      return;
    }
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
      const r = nodeRange(p, mainFile)!;
      const ptext = text.slice(r.begin, r.end).replace(/\s+/g, " ");
      decl += syscall
        ? ` ${ptext}; bpf_probe_read_kernel(&${p.name}, sizeof(${p.name}), &__tsbcc_sc->${reg});`
        : ` ${ptext} = (__typeof__(${p.name}))${c}->${reg};`;
    }
    edits.replace(r0.end, rLast.end, () => []);
    if (decl) edits.insert(rBody.begin + 1, decl);
  }

  // ---- calls: map methods, printk, bpf_num_cpus, calls of program functions
  const events: Record<string, string> = {};
  for (const f of fns) {
    walkNodes(f.body, (n) => {
      if (n.kind !== "CallExpr") return;
      const m = asMethodCall(n, maps);
      if (m) return rewriteMethod(m);
      const callee = calleeDecl(n);
      if (!callee) return;
      if (callee.name === "bpf_trace_printk") return rewritePrintk(n);
      if (callee.name === "bpf_num_cpus") {
        const r = nodeRange(n, mainFile);
        if (r) edits.replace(r.begin, r.end, () => [String(input.numCpus)]);
        else report(n, "error", "cannot rewrite bpf_num_cpus() inside a macro");
        return;
      }
      const target = fnById.get(callee.id);
      if (target && !target.isStatic) report(n, "error", `cannot call non-static helper function ${target.name}; make it static`);
    });
  }

  /** Argument ranges inside the call's range, in order and disjoint (else undefined). */
  function argRanges(call: AstNode, args: AstNode[]): { begin: number; end: number }[] | undefined {
    const c = nodeRange(call, mainFile);
    if (!c) return undefined;
    const out: { begin: number; end: number }[] = [];
    let pos = c.begin;
    for (const a of args) {
      const r = argRange(a, mainFile, blanked);
      if (!r || r.begin < pos || r.end > c.end) return undefined;
      out.push(r);
      pos = r.end;
    }
    return out;
  }

  function rewriteMethod(m: NonNullable<ReturnType<typeof asMethodCall>>): void {
    const r = nodeRange(m.call, mainFile);
    const ar = argRanges(m.call, m.args);
    if (!r || !ar) {
      report(m.call, "error", `cannot use map function ${m.method} of ${m.map.name} inside a macro`);
      return;
    }
    if (m.method === "insert" && isArrayKind(m.map.kind)) {
      report(m.call, "warning", `all elements of an array already exist; insert() will have no effect (map ${m.map.name})`);
    }
    const evArg = EVENT_ARG[m.method];
    if (evArg !== undefined && m.args[evArg]) {
      const t = submittedType(m.args[evArg]!);
      if (t && !events[m.map.name]) events[m.map.name] = t;
    }
    try {
      // Validate eagerly so the error points at the call.
      methodCode(m, () => ({ sub: true, begin: r.begin, end: r.begin }));
    } catch (err) {
      if (err instanceof MethodError) {
        report(m.call, "error", err.message);
        return;
      }
      throw err;
    }
    edits.replace(r.begin, r.end, (sub: Sub) => methodCode(m, (i) => sub(ar![i]!.begin, ar![i]!.end)));
  }

  function rewritePrintk(call: AstNode): void {
    const args = call.inner!.slice(1);
    const r = nodeRange(call, mainFile);
    const ar = argRanges(call, args);
    if (!r || !ar || !args.length) {
      report(call, "error", "cannot rewrite bpf_trace_printk inside a macro");
      return;
    }
    const fmtNode = ignoreParensCasts(args[0]!);
    const fmt = fmtNode.kind === "StringLiteral" && typeof fmtNode.value === "string" ? stringLiteralValue(fmtNode.value) : undefined;
    if (fmt !== undefined) {
      for (const p of checkPrintkFormat(fmt, args.length - 1)) report(call, p.severity, p.message);
    }
    edits.replace(r.begin, r.end, (sub: Sub) => {
      const rest: Piece[] = [];
      for (let i = 1; i < args.length; i++) rest.push(", ", sub(ar[i]!.begin, ar[i]!.end));
      if (fmt !== undefined) {
        return ["({ char __tsbcc_fmt[] = ", sub(ar[0]!.begin, ar[0]!.end), "; __tsbcc_libbpf_trace_printk(__tsbcc_fmt, sizeof(__tsbcc_fmt)", ...rest, "); })"];
      }
      return ["__tsbcc_libbpf_trace_printk(", sub(ar[0]!.begin, ar[0]!.end), ", sizeof(", sub(ar[0]!.begin, ar[0]!.end, true), ")", ...rest, ")"];
    });
  }

  // ---- implicit kernel reads
  const analysis = new ProbeReadAnalysis(fns, maps, new Map([...fnById].filter(([, f]) => f.isStatic)));
  for (const site of analysis.run()) {
    const L = site.lvalue;
    // `inet->inet_sport` where inet_sport is a kernel macro (sk.__sk_common...): the read ends inside an
    // object-like macro the user spelled last, so the whole invocation belongs to it.
    const r = argRange(L, mainFile, blanked, false);
    if (!r) {
      report(L, "warning", "kernel memory read inside a macro is not rewritten; use bpf_probe_read_kernel()");
      continue;
    }
    const t = unqualified(qualType(L));
    const inner = ignoreParensCasts(L);
    edits.replaceOnce("read", r.begin, r.end, (sub: Sub) => {
      const type: Piece[] = printableType(t) ? [t] : ["__typeof__(", sub(r.begin, r.end, true), ")"];
      let addr: Piece[];
      const operand = inner.kind === "UnaryOperator" && inner.opcode === "*" && L.kind !== "ParenExpr" ? inner.inner?.[0] : undefined;
      const or = operand ? nodeRange(operand, mainFile) : undefined;
      if (or) addr = ["(", sub(or.begin, or.end), ")"];
      else addr = ["&(", sub(r.begin, r.end), ")"];
      return [
        "({ ", ...type, " __tsbcc_val; __builtin_memset(&__tsbcc_val, 0, sizeof(__tsbcc_val)); bpf_probe_read_kernel(&__tsbcc_val, sizeof(__tsbcc_val), (void *)",
        ...addr, "); __tsbcc_val; })",
      ];
    });
  }

  const pinned: Record<string, string> = {};
  for (const m of maps.values()) if (m.pinPath) pinned[m.name] = m.pinPath;
  const rendered = edits.render();
  return {
    text: rendered.text,
    segments: rendered.segments,
    functions,
    events,
    pinned,
    maps: [...maps.values()].map((m) => ({ name: m.name, kind: m.kind })),
    diagnostics,
  };
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
