// The probe specifiers of BCC's generic tracing tools (funccount, stackcount, funclatency, trace, argdist):
// "func" / "p::func" (kernel function, kprobe), "lib:func" / "p:lib:func" (user function, uprobe; "c:malloc" is
// libc's malloc), "r:lib:func" (return), "t:cat:event" (tracepoint), "u:lib:probe" (USDT). A pattern may hold
// "*" wildcards (or be a regular expression with `regexp`). Expanded here into concrete targets, each with the
// C function a tool generates for it, then attached. Kernel functions need kprobes: without them the spec fails
// with NoEventSourceError saying so (and which other forms work here).
import { BPF, haveKprobes, listTracepoints, USDT } from "../../index.js";
import { resolveBinary } from "../../symbols/libraries.js";
import { NoEventSourceError, UsageError } from "./errors.js";
import type { ChosenSource } from "./source.js";

export type ProbeType = "p" | "r" | "t" | "u";

export interface ProbeSpec {
  type: ProbeType;
  /** Library or binary ("" for the kernel). For tracepoints: the category pattern. */
  library: string;
  /** Function, event or USDT probe pattern. */
  pattern: string;
  /** The spec as given. */
  text: string;
}

export interface ProbeTarget {
  /** Display name: function, "cat:event" or "provider:probe". */
  name: string;
  /** The generated C function that handles it. */
  fnName: string;
  /** Tracepoint category and event (type "t"). */
  tp?: [string, string];
}

export interface ProbePlan {
  spec: ProbeSpec;
  /** The resolved binary of a user probe. */
  binary?: string;
  targets: ProbeTarget[];
  /** The USDT context to pass to BPF.load (type "u"). */
  usdt?: USDT;
  source: ChosenSource;
}

/** Parses BCC's probe syntax; `allow` lists the probe types the tool takes. */
export function parseProbeSpec(tool: string, text: string, allow: readonly ProbeType[] = ["p", "t", "u"]): ProbeSpec {
  if (typeof text !== "string" || text.trim() === "") throw new UsageError(tool, "a probe pattern is required");
  const parts = text.split(":");
  let spec: ProbeSpec;
  if (parts.length === 1) spec = { type: "p", library: "", pattern: parts[0]!, text };
  else if (parts.length === 2) spec = { type: "p", library: parts[0]!, pattern: parts[1]!, text };
  else if (parts.length === 3 && ["p", "r", "t", "u"].includes(parts[0]!)) spec = { type: parts[0] as ProbeType, library: parts[1]!, pattern: parts[2]!, text };
  else throw new UsageError(tool, `unrecognized probe "${text}": use func, lib:func, p:lib:func, r:lib:func, t:category:event or u:lib:probe`);
  if (!allow.includes(spec.type)) throw new UsageError(tool, `probe type "${spec.type}:" is not supported by ${tool} (it takes ${allow.map((a) => `${a}:`).join(", ")})`);
  if (spec.pattern === "") throw new UsageError(tool, `probe "${text}" names no function, event or probe`);
  if (spec.type === "t" && spec.library === "") throw new UsageError(tool, `tracepoint "${text}" needs a category: t:category:event`);
  if (spec.type === "u" && spec.library === "") throw new UsageError(tool, `USDT probe "${text}" needs a binary or library: u:lib:probe`);
  return spec;
}

/** A glob ("vfs_*") or, with `regexp`, the pattern itself, as a whole-name expression. */
export function patternRegExp(pattern: string, regexp = false): RegExp {
  if (regexp) return new RegExp(`^(?:${pattern})$`);
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

const MAX_TARGETS = 1000;

/** Expands the spec into targets on this machine (functions, tracepoints, USDT probes). */
export function planProbes(tool: string, spec: ProbeSpec, o: { pid?: number; regexp?: boolean; prefix?: string } = {}): ProbePlan {
  const prefix = o.prefix ?? "trace";
  const re = patternRegExp(spec.pattern, o.regexp);
  const wild = o.regexp || spec.pattern.includes("*");
  let names: string[];
  let binary: string | undefined;
  let usdt: USDT | undefined;
  if (spec.type === "t") {
    const cat = patternRegExp(spec.library, o.regexp);
    names = listTracepoints().filter((tp) => { const [c, e] = tp.split(":"); return cat.test(c!) && re.test(e!); });
    if (names.length === 0) throw new UsageError(tool, `no tracepoint matches "${spec.library}:${spec.pattern}"`);
  } else if (spec.type === "u") {
    try {
      binary = resolveBinary(spec.library, o.pid);
      // With a pid, the probes of that binary, attached for that process only.
      usdt = new USDT({ path: spec.library, ...(o.pid !== undefined ? { pid: o.pid } : {}) });
    } catch (e) {
      throw new UsageError(tool, (e as Error).message);
    }
    names = [...new Set(usdt.probes().filter((p) => (re.test(p.name) || re.test(`${p.provider}:${p.name}`))).map((p) => `${p.provider}:${p.name}`))];
    if (names.length === 0) throw new UsageError(tool, `no USDT probe of ${binary} matches "${spec.pattern}"`);
  } else if (spec.library === "") {
    const k = haveKprobes();
    if (!k.supported) {
      throw new NoEventSourceError(tool, [`kprobe: ${k.reason}`],
        `kprobes for kernel functions ("${spec.text}"); here use t:category:event (tracepoints), p:lib:func (uprobes) or u:lib:probe (USDT)`);
    }
    names = wild ? BPF.getKprobeFunctions(re) : [spec.pattern];
  } else {
    try {
      binary = resolveBinary(spec.library, o.pid);
      names = wild ? BPF.getUserFunctions(binary, re) : BPF.getUserFunctions(binary, re).slice(0, 1);
    } catch (e) {
      throw new UsageError(tool, (e as Error).message);
    }
    if (names.length === 0) throw new UsageError(tool, `no function of ${binary} matches "${spec.pattern}"`);
  }
  names = [...new Set(names)].sort();
  if (names.length > MAX_TARGETS) throw new UsageError(tool, `"${spec.text}" matches ${names.length} targets; at most ${MAX_TARGETS} can be traced`);
  const targets = names.map((name, i): ProbeTarget => (spec.type === "t"
    ? { name, fnName: `tracepoint__${name.replace(":", "__")}`, tp: name.split(":") as [string, string] }
    : { name, fnName: `${prefix}_${i}` }));
  if (usdt) for (const t of targets) usdt.enableProbe({ probe: t.name, fnName: t.fnName });
  const kind = spec.type === "t" ? "tracepoint" : spec.type === "u" ? "usdt" : spec.library === "" ? "kprobe" : "uprobe";
  return { spec, binary, targets, usdt, source: { kind, targets: names, forced: false } };
}

/**
 * The C handler of one target: `body` runs with `__ctx` (the program's context, for stacks and arguments) and, for
 * tracepoints, `args`. The caller's `body` returns nothing; the handler returns 0.
 */
export function probeFunction(plan: ProbePlan, t: ProbeTarget, body: string): string {
  if (t.tp) return `TRACEPOINT_PROBE(${t.tp[0]}, ${t.tp[1]}) {\n    void *__ctx = args;\n${body}\n    return 0;\n}\n`;
  return `int ${t.fnName}(struct pt_regs *ctx) {\n    void *__ctx = ctx;\n${body}\n    return 0;\n}\n`;
}

/** Attaches every target of the plan (tracepoints attach themselves at load; USDT through the load's contexts). */
export function attachPlan(b: BPF, plan: ProbePlan, o: { pid?: number; ret?: boolean } = {}): void {
  const { spec } = plan;
  if (spec.type === "t" || spec.type === "u") return;
  for (const t of plan.targets) {
    const ret = o.ret ?? spec.type === "r";
    if (spec.library === "") {
      if (ret) b.attachKretprobe({ event: t.name, fnName: t.fnName });
      else b.attachKprobe({ event: t.name, fnName: t.fnName });
    } else {
      const u = { name: plan.binary!, sym: t.name, fnName: t.fnName, ...(o.pid !== undefined ? { pid: o.pid } : {}) };
      if (ret) b.attachUretprobe(u);
      else b.attachUprobe(u);
    }
  }
}

/** The C filter line for a pid (tgid), or "". */
export function pidFilter(pid: number | undefined): string {
  return pid === undefined ? "" : `    if ((bpf_get_current_pid_tgid() >> 32) != ${pid}) return 0;\n`;
}
