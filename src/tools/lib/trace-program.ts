// trace's probe text and BPF program: parses BCC's 'TYPE:LIB:FUNC[(signature)] [(filter)] ["format"[, arg...]]',
// rewrites the expressions (arg1..arg6 or the signature's names, retval, $pid/$tgid/$uid/$gid/$cpu/$task,
// STRCMP("lit", expr)) into C (in a u: probe argN is the USDT probe's argument, read by bpf_usdt_readarg:
// usdt-args.ts), and writes one handler per probe that applies the in-kernel filters (pid, tid, uid, own process,
// cgroup, the probe's filter) and submits the captured values (numbers, strings, stack ids) as one perf event. The
// formatting of an event (printf conversions, %K/%U symbols) is here too, so trace.ts holds only the stream and the
// command line.
import { UsageError } from "./errors.js";
import { probeFunction, type ProbePlan } from "./probe-spec.js";
import { usdtAliases, usdtArgReads } from "./usdt-args.js";

const NAME = "trace";
export const MAX_ARGS = 6;
export const DEFAULT_STRING_SIZE = 80;

/** What a conversion captures: a string (%s), a number, or an address symbolized in the kernel (%K) or the process (%U). */
export type ArgKind = "s" | "n" | "K" | "U";

export interface TraceProbe {
  text: string;
  probe: string;
  /** BCC's signature, "(type name, ...)" right after the probe (no space): names (and types) p:'s arguments. */
  params: { type: string; name: string }[];
  filter?: string;
  format: string;
  args: string[];
  /** Per argument, what its conversion captures. */
  kinds: ArgKind[];
  /** Per argument: a string (%s) or not. */
  strings: boolean[];
}

/** Splits on top-level commas (not inside parentheses or quotes). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = "", quote = false;
  for (const c of s) {
    if (c === '"') quote = !quote;
    if (!quote && c === "(") depth++;
    if (!quote && c === ")") depth--;
    if (!quote && depth === 0 && c === ",") { out.push(cur.trim()); cur = ""; } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export const CONVERSION = /%(-?\d*)(ll|l|h|hh|z)?([diuxXcspKU%])/g;

/**
 * The signature of 'p:lib:func(type a, type b) ...' (BCC: the parentheses touch the probe; a filter follows a
 * space): the probe without it and its parameters, or the text unchanged when it has none.
 */
function splitSignature(text: string): { rest: string; params: { type: string; name: string }[] } {
  const m = /^(\s*[^\s(]+)\(([^()]*)\)(?=\s|$)/.exec(text);
  const declaration = /^\s*[A-Za-z_][\w\s*]*[\s*]\s*[A-Za-z_]\w*\s*$/;
  if (!m || !m[2]!.split(",").every((p) => declaration.test(p))) return { rest: text, params: [] };
  const params = m[2]!.split(",").map((p) => {
    const pm = /^\s*(.*?[\s*])([A-Za-z_]\w*)\s*$/.exec(p);
    if (!pm || !pm[1]!.trim()) throw new UsageError(NAME, `"${text}": bad parameter "${p.trim()}" in the signature (want "type name")`);
    return { type: pm[1]!.trim(), name: pm[2]! };
  });
  if (params.length > MAX_ARGS) throw new UsageError(NAME, `"${text}": at most ${MAX_ARGS} parameters in the signature`);
  return { rest: m[1]! + text.slice(m[0].length), params };
}

export function parseTraceProbe(text: string): TraceProbe {
  if (typeof text !== "string" || !text.trim()) throw new UsageError(NAME, "a probe is required");
  const { rest: unsigned, params } = splitSignature(text);
  const m = /^\s*(\S+?)(?:\s*\((.*?)\))?\s*(?:"((?:[^"\\]|\\.)*)"\s*(?:,(.*))?)?\s*$/.exec(unsigned);
  if (!m) throw new UsageError(NAME, `invalid probe "${text}": want TYPE:LIB:FUNC[(signature)] [(filter)] ["format"[, arg...]]`);
  const [, probe, filter, format = "", rest = ""] = m;
  if (params.length && !/^(p:)?[^:]*:[^:]+$|^[^:]+$/.test(probe!)) {
    throw new UsageError(NAME, `"${text}": only entry probes (p:) take a signature (a return probe sees retval; USDT and tracepoint probes use arg1, arg2, ... or args->field)`);
  }
  const args = rest.trim() ? splitArgs(rest) : [];
  const convs = [...format.matchAll(CONVERSION)].filter((c) => c[3] !== "%");
  if (convs.length !== args.length) throw new UsageError(NAME, `"${text}": the format has ${convs.length} conversions for ${args.length} arguments`);
  if (args.length > MAX_ARGS) throw new UsageError(NAME, `"${text}": at most ${MAX_ARGS} arguments`);
  const kinds = convs.map((c): ArgKind => (c[3] === "s" ? "s" : c[3] === "K" ? "K" : c[3] === "U" ? "U" : "n"));
  return { text, probe: probe!, params, filter, format, args, kinds, strings: kinds.map((k) => k === "s") };
}

const ALIASES: [RegExp, string][] = [
  [/\barg([1-6])\b/g, "PT_REGS_PARM$1(ctx)"],
  [/\bretval\b/g, "PT_REGS_RC(ctx)"],
  [/\$uid\b/g, "(unsigned)(bpf_get_current_uid_gid() & 0xffffffff)"],
  [/\$gid\b/g, "(unsigned)(bpf_get_current_uid_gid() >> 32)"],
  [/\$pid\b/g, "(unsigned)(bpf_get_current_pid_tgid() & 0xffffffff)"],
  [/\$tgid\b/g, "(unsigned)(bpf_get_current_pid_tgid() >> 32)"],
  [/\$cpu\b/g, "bpf_get_smp_processor_id()"],
  [/\$task\b/g, "((struct task_struct *)bpf_get_current_task())"],
];

/**
 * The C of a probe expression. STRCMP("text", expr) becomes a call of a generated compare function (pushed onto
 * `helpers`): true when the bytes at expr start with the literal's bytes (BCC's meaning). With `binCmp` (-B) the
 * quoted text is a C array initializer ("{0x41,0x42,0}") and every element but the last is compared.
 */
export function cExpr(e: string, helpers: string[], binCmp = false, usdt = false): string {
  let out = "";
  let rest = e;
  for (let at = rest.search(/\bSTRCMP\s*\(/); at >= 0; at = rest.search(/\bSTRCMP\s*\(/)) {
    const call = strcmpCall(rest.slice(at), e);
    out += rest.slice(0, at) + strcmpHelper(call.lit, call.ptr, helpers, binCmp, usdt);
    rest = rest.slice(at + call.length);
  }
  return ALIASES.reduce((s, [re, c]) => s.replace(re, c), usdt ? usdtAliases(out + rest) : out + rest);
}

/** STRCMP("lit", expr) at the start of `s`: the literal, the expression (parentheses balanced) and the call's length. */
function strcmpCall(s: string, whole: string): { lit: string; ptr: string; length: number } {
  const m = /^STRCMP\s*\(\s*"((?:[^"\\]|\\.)*)"\s*,/.exec(s);
  const bad = (): never => { throw new UsageError(NAME, `invalid STRCMP in "${whole}": want STRCMP("text", expression)`); };
  if (!m) return bad();
  let depth = 0;
  for (let i = m[0].length; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")" && depth-- === 0) {
      const ptr = s.slice(m[0].length, i).trim();
      return ptr ? { lit: m[1]!, ptr, length: i + 1 } : bad();
    }
  }
  return bad();
}

function strcmpHelper(lit: string, ptr: string, helpers: string[], binCmp: boolean, usdt: boolean): string {
  if (binCmp && !/^\s*\{.*\}\s*$/.test(lit)) throw new UsageError(NAME, `-B/--bin_cmp: STRCMP's first argument must be a C array initializer such as "{0x41,0x42,0}", got "${lit}"`);
  if (!binCmp && lit === "") throw new UsageError(NAME, "STRCMP needs a non-empty string");
  const fn = `tsbcc_streq_${helpers.length}`;
  helpers.push(`static inline int ${fn}(u64 where) {
    char want[] = ${binCmp ? lit : `"${lit}"`};
    char got[sizeof(want)] = {};
    if (bpf_probe_read_user(&got, sizeof(got), (void *)where) != 0)
        bpf_probe_read_kernel(&got, sizeof(got), (void *)where);
    for (int i = 0; i + 1 < sizeof(want); i++)
        if (want[i] != got[i]) return 0;
    return 1;
}`);
  return `${fn}((u64)(${cExpr(ptr, helpers, binCmp, usdt)}))`;
}

export interface ProgramOptions {
  pid?: number;
  tid?: number;
  uid?: number;
  /** The tracing process's own pid, filtered out (trace without -S). */
  selfPid?: number;
  cgroup?: boolean;
  kernelStack?: boolean;
  userStack?: boolean;
  stringSize: number;
  binCmp?: boolean;
  /** User stacks as build-id frames (-s: symbolized from the listed files, even after the process is gone). */
  buildIdStacks?: boolean;
  /** Extra #include lines (-I), placed first. */
  includes?: string;
}

/** The C that stores argument `j` (a string read from user memory, else kernel memory; or a number). */
function captureC(j: number, kind: ArgKind, c: string): string {
  if (kind !== "s") return `    ev->n[${j}] = (u64)(${c});`;
  return `    {
        void *p = (void *)(${c});
        if (bpf_probe_read_user_str(&ev->s[${j}], sizeof(ev->s[${j}]), p) < 0)
            bpf_probe_read_kernel_str(&ev->s[${j}], sizeof(ev->s[${j}]), p);
    }`;
}

/** The whole program: the event struct, maps, compare helpers and one handler per probe. */
export function traceProgram(probes: { p: TraceProbe; plan: ProbePlan }[], o: ProgramOptions): string {
  const helpers: string[] = [];
  const ustacks = o.buildIdStacks ? "trace_ustacks" : "trace_stacks";
  const handlers = probes.map(({ p, plan }, i) => {
    const usdt = plan.spec.type === "u";
    const c = (e: string): string => cExpr(e, helpers, o.binCmp, usdt);
    return probeFunction(plan, plan.targets[0]!, `
    u64 id = bpf_get_current_pid_tgid();
    ${o.pid !== undefined ? `if ((id >> 32) != ${o.pid}) return 0;` : ""}
    ${o.tid !== undefined ? `if ((u32)id != ${o.tid}) return 0;` : ""}
    ${o.selfPid !== undefined ? `if ((id >> 32) == ${o.selfPid}) return 0;` : ""}
    ${o.uid !== undefined ? `if ((u32)bpf_get_current_uid_gid() != ${o.uid}) return 0;` : ""}
    ${o.cgroup ? "if (trace_cgroup.check_current_task(0) <= 0) return 0;" : ""}
${p.params.map((a, j) => `    ${a.type} ${a.name} = (${a.type})PT_REGS_PARM${j + 1}(ctx);\n`).join("")}${usdtArgReads(NAME, plan, [p.filter, ...p.args])}    ${p.filter ? `if (!(${c(p.filter)})) return 0;` : ""}
    int zero = 0;
    struct trace_event_t *ev = scratch.lookup(&zero);
    if (!ev) return 0;
    ev->probe = ${i};
    ev->pid = id >> 32;
    ev->tid = (u32)id;
    ev->cpu = bpf_get_smp_processor_id();
    ev->ts = bpf_ktime_get_ns();
    ev->kstack = ${o.kernelStack ? "trace_stacks.get_stackid(__ctx, 0)" : "-1"};
    ev->ustack = ${o.userStack ? `${ustacks}.get_stackid(__ctx, BPF_F_USER_STACK)` : "-1"};
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
${p.args.map((a, j) => captureC(j, p.kinds[j]!, c(a))).join("\n")}
    events.perf_submit(__ctx, ev, sizeof(*ev));`);
  }).join("\n");
  const stackTables = (o.kernelStack || (o.userStack && !o.buildIdStacks) ? "BPF_STACK_TRACE(trace_stacks, 1024);\n" : "") +
    (o.userStack && o.buildIdStacks ? "BPF_STACK_TRACE_BUILDID(trace_ustacks, 1024);\n" : "");
  return `${o.includes ?? ""}
struct trace_event_t {
    u64 ts;
    u32 probe;
    u32 pid;
    u32 tid;
    u32 cpu;
    int kstack;
    int ustack;
    char comm[TASK_COMM_LEN];
    u64 n[${MAX_ARGS}];
    char s[${MAX_ARGS}][${o.stringSize}];
};
BPF_PERCPU_ARRAY(scratch, struct trace_event_t, 1);
BPF_PERF_OUTPUT(events);
${stackTables}
${o.cgroup ? "BPF_CGROUP_ARRAY(trace_cgroup, 1);" : ""}
${helpers.join("\n")}
${handlers}`;
}

/** printf of BCC's conversions over the captured values (%K/%U values arrive already symbolized, as strings). */
export function renderMessage(format: string, values: Array<bigint | string>): string {
  let i = 0;
  return format.replace(CONVERSION, (_all, width: string, len: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    const v = values[i++]!;
    let s: string;
    if (typeof v === "string") s = v;
    else if (conv === "d" || conv === "i") s = String(len === "ll" || len === "l" || len === "z" ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v));
    else if (conv === "u") s = String(len ? v : BigInt.asUintN(32, v));
    else if (conv === "x" || conv === "X") { s = (len ? v : BigInt.asUintN(32, v)).toString(16); if (conv === "X") s = s.toUpperCase(); }
    else if (conv === "p") s = `0x${v.toString(16)}`;
    else s = String.fromCharCode(Number(v & 0xffn));
    const w = Number(width || 0);
    return w < 0 ? s.padEnd(-w) : s.padStart(w);
  }).replace(/\\n/g, "\n").replace(/\\t/g, "\t");
}
