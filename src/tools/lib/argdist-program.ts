// argdist's specifiers and BPF program. A specifier is BCC's
// {p,r,t,u}:{library,category}:function(signature)[:type[,type...]:expr[,expr...][:filter]][#label]: the signature
// names the arguments (p: PT_REGS_PARM1..), a USDT probe (u:) names its own arguments arg1..argN (read with
// bpf_usdt_readarg: usdt-args.ts), a return probe reads $retval, and also $latency (ns since the entry)
// and $entry(param) (the parameter's value at the entry): those add an entry probe that saves the time and the
// parameters per thread. -C keys may have several expressions, numbers or char* strings; -H takes one number.
// Specifiers probing the same place share one handler, since a probe attaches once per program.
import { UsageError } from "./errors.js";
import { pidFilter, probeFunction, type ProbePlan } from "./probe-spec.js";
import { usdtAliases, usdtArgReads } from "./usdt-args.js";

const NAME = "argdist";
export const DEFAULT_STRING_SIZE = 80;

export interface ArgdistSpecifier {
  kind: "histogram" | "count";
  text: string;
  probe: string;
  params: { type: string; name: string }[];
  /** The first expression's type and text (a histogram has only one). */
  type: string;
  expr: string;
  /** Every expression and its type (-C keys may have several). */
  exprs: { type: string; expr: string }[];
  /** No type/expression given: p/t count calls ("total calls"), r collects $retval. */
  defaultExpr: boolean;
  filter?: string;
  label?: string;
}

const isString = (type: string): boolean => /^char\s*\*$/.test(type.trim());

/** Splits on commas outside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = "";
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (depth === 0 && c === ",") { out.push(cur.trim()); cur = ""; } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

const ENTRY = /\$entry\((\w+)\)/g;

/** Parses one specifier; `kind` is -H (histogram) or -C (count). */
export function parseSpecifier(text: string, kind: "histogram" | "count"): ArgdistSpecifier {
  if (typeof text !== "string") throw new UsageError(NAME, "a specifier must be a string");
  const hash = text.indexOf("#");
  const label = hash >= 0 ? text.slice(hash + 1) : undefined;
  const body = hash >= 0 ? text.slice(0, hash) : text;
  const m = /^([prtu]):([^:]*):([A-Za-z_][\w.]*)(?:\(([^)]*)\))?(?::([^:]+):([^:]+)(?::(.+))?)?$/.exec(body.trim());
  if (!m) throw new UsageError(NAME, `invalid specifier "${text}": expected {p,r,t,u}:{library,category}:function(signature):type[,type...]:expr[,expr...][:filter][#label]`);
  const [, type, lib, fn, sig, ctypes, exprText, filter] = m;
  const bad = (why: string): never => { throw new UsageError(NAME, `"${text}": ${why}`); };
  const params = (sig ?? "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
    const pm = /^(.*?)([A-Za-z_]\w*)$/.exec(p);
    if (!pm || !pm[1]!.trim()) bad(`bad parameter "${p}" (want "type name")`);
    return { type: pm![1]!.trim(), name: pm![2]! };
  });
  if (params.length > 6) bad("at most 6 parameters");
  if (type === "u" && params.length) bad("a USDT probe has no signature: its arguments are arg1, arg2, ...");
  const defaultExpr = ctypes === undefined;
  let exprs: { type: string; expr: string }[];
  if (defaultExpr) {
    if (kind === "histogram" && type !== "r") bad("histograms must have an expression (type:expr)");
    exprs = [type === "r" ? { type: "int", expr: "$retval" } : { type: "u64", expr: "1" }];
  } else {
    const types = splitTop(ctypes!);
    const values = splitTop(exprText!);
    if (types.length !== values.length) bad(`mismatched # of exprs and types (${values.length} and ${types.length})`);
    if (kind === "histogram" && values.length > 1) bad("histograms can only have 1 expr");
    exprs = types.map((t, i) => ({ type: t, expr: values[i]! }));
    if (exprs.some((e) => !e.type || !e.expr)) bad("an empty type or expression");
  }
  if (kind === "histogram" && isString(exprs[0]!.type)) bad("a histogram needs a numeric type, not char*");
  const all = [...exprs.map((e) => e.expr), filter ?? ""].join(" ");
  if (type !== "r" && /\$(latency|entry\(|retval)/.test(all)) bad("$retval, $latency and $entry(param) are for return probes (r:)");
  for (const [, name] of all.matchAll(ENTRY)) if (!params.some((p) => p.name === name)) bad(`$entry(${name}): no such parameter in the signature`);
  const withoutEntries = all.replace(ENTRY, "");
  if (type === "r" && params.some((p) => new RegExp(`(?<![$\\w])${p.name}\\b`).test(withoutEntries))) {
    bad("return probes see $retval and $entry(param), not the parameters");
  }
  return { kind, text, probe: `${type}:${lib}:${fn}`, params, type: exprs[0]!.type, expr: exprs[0]!.expr, exprs, defaultExpr, filter, label };
}

/** Does this return-probe specifier need the entry probe (time and parameters saved per thread)? */
export function needsEntry(s: ArgdistSpecifier): boolean {
  return /\$(latency|entry\()/.test([...s.exprs.map((e) => e.expr), s.filter ?? ""].join(" "));
}

function entryParams(s: ArgdistSpecifier): { type: string; name: string }[] {
  const names = new Set([...[...s.exprs.map((e) => e.expr), s.filter ?? ""].join(" ").matchAll(ENTRY)].map((m) => m[1]!));
  return s.params.filter((p) => names.has(p.name));
}

/** Our names for BCC's variables inside a handler (and a USDT probe's arg1..argN). */
function cExprOf(e: string, usdt: boolean): string {
  return (usdt ? usdtAliases(e) : e).replace(/\$retval/g, "PT_REGS_RC(ctx)").replace(/\$latency/g, "(bpf_ktime_get_ns() - __e->ts)")
    .replace(ENTRY, "__e->p_$1").replace(/\$PID\b/g, "(bpf_get_current_pid_tgid() >> 32)");
}

export interface Planned { spec: ArgdistSpecifier; plan: ProbePlan }

export interface ProgramOptions {
  pid?: number;
  tid?: number;
  stringSize: number;
  /** Extra #include lines (-I), placed first. */
  includes?: string;
}

function maps(s: ArgdistSpecifier, i: number, o: ProgramOptions): string {
  let text = s.kind === "histogram" ? `BPF_HISTOGRAM(hist_${i}, u64, 64);\n` : `struct key_${i}_t {\n${s.exprs.map((e, j) => (isString(e.type)
    ? `    char v${j}[${o.stringSize}];\n` : `    ${e.type} v${j};\n`)).join("")}};\nBPF_HASH(counts_${i}, struct key_${i}_t, u64, 10240);\n`;
  if (needsEntry(s)) {
    text += `struct entry_${i}_t {\n    u64 ts;\n${entryParams(s).map((p) => `    ${p.type} p_${p.name};\n`).join("")}};\n`;
    text += `BPF_HASH(entry_${i}, u32, struct entry_${i}_t, 10240);\n`;
  }
  return text;
}

/** The record part of a handler: the key (or log2 slot) from the expressions, filtered. */
function record(s: ArgdistSpecifier, i: number, user: boolean, plan: ProbePlan): string {
  const usdt = plan.spec.type === "u";
  const cOf = (e: string): string => cExprOf(e, usdt);
  const params = s.probe.startsWith("r:") ? "" : s.params.map((p, j) => `    ${p.type} ${p.name} = (${p.type})PT_REGS_PARM${j + 1}(ctx);\n`).join("");
  const entry = needsEntry(s) ? `    u32 __tid = (u32)bpf_get_current_pid_tgid();
    struct entry_${i}_t *__e = entry_${i}.lookup(&__tid);
    if (!__e) break;
    struct entry_${i}_t __saved = *__e;
    entry_${i}.delete(&__tid);
    __e = &__saved;
` : "";
  const filter = `${usdtArgReads(NAME, plan, [...s.exprs.map((e) => e.expr), s.filter])}${s.filter ? `    if (!(${cOf(s.filter)})) break;\n` : ""}`;
  if (s.kind === "histogram") return `${params}${entry}${filter}    ${s.type} v = (${s.type})(${cOf(s.expr)});\n    hist_${i}.atomic_increment(bpf_log2l((u64)v));`;
  const fields = s.exprs.map((e, j) => {
    if (!isString(e.type)) return `    key.v${j} = (${e.type})(${cOf(e.expr)});\n`;
    const read = user ? "if (bpf_probe_read_user_str(&key.v%, sizeof(key.v%), p) < 0) " : "";
    return `    {\n        void *p = (void *)(${cOf(e.expr)});\n        ${read.replace(/%/g, String(j))}bpf_probe_read_kernel_str(&key.v${j}, sizeof(key.v${j}), p);\n    }\n`;
  }).join("");
  return `${params}${entry}${filter}    struct key_${i}_t key = {};\n${fields}    counts_${i}.increment(key);`;
}

/** The entry part for a return specifier: the time and the named parameters, saved per thread. */
function entrySave(s: ArgdistSpecifier, i: number): string {
  const ps = entryParams(s);
  return `    u32 __tid = (u32)bpf_get_current_pid_tgid();
    struct entry_${i}_t __e = {};
    __e.ts = bpf_ktime_get_ns();
${ps.map((p) => `    __e.p_${p.name} = (${p.type})PT_REGS_PARM${s.params.indexOf(p) + 1}(ctx);\n`).join("")}    entry_${i}.update(&__tid, &__e);`;
}

/** One attachment of the program: a place (entry, return or tracepoint of a target) and the C run there. */
export interface Placement { plan: ProbePlan; ret: boolean; fnName: string; bodies: string[] }

/**
 * Groups every specifier's record (and entry) code by place; each place becomes one C function. A USDT specifier
 * keeps its own function, named as its USDT context enabled it (each context attaches its own locations).
 */
export function placements(planned: Planned[]): Placement[] {
  const by = new Map<string, Placement>();
  const add = (plan: ProbePlan, ret: boolean, body: string): void => {
    const usdt = plan.spec.type === "u";
    const key = usdt ? `u:${plan.targets[0]!.fnName}` : `${plan.spec.type === "t" ? "t" : ret ? "r" : "p"}:${plan.binary ?? plan.spec.library}:${plan.targets[0]!.name}`;
    const hit = by.get(key);
    if (hit) hit.bodies.push(body);
    else by.set(key, { plan, ret, fnName: usdt ? plan.targets[0]!.fnName : `argdist_at_${by.size}`, bodies: [body] });
  };
  planned.forEach(({ spec, plan }, i) => {
    const user = plan.binary !== undefined;
    if (needsEntry(spec)) add(plan, false, `    do {\n${entrySave(spec, i)}\n    } while (0);`);
    add(plan, spec.probe.startsWith("r:"), `    do {\n${record(spec, i, user || plan.spec.type === "t", plan)}\n    } while (0);`);
  });
  return [...by.values()];
}

/** The whole program text. */
export function argdistProgram(planned: Planned[], o: ProgramOptions): string {
  const tid = o.tid === undefined ? "" : `    if ((u32)bpf_get_current_pid_tgid() != ${o.tid}) return 0;\n`;
  const fns = placements(planned).map((pl) => probeFunction(pl.plan, { ...pl.plan.targets[0]!, fnName: pl.fnName }, `${pidFilter(o.pid)}${tid}${pl.bodies.join("\n")}`));
  return `${o.includes ?? ""}${planned.map(({ spec }, i) => maps(spec, i, o)).join("")}\n${fns.join("\n")}`;
}
