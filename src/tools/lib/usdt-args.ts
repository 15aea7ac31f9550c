// USDT arguments in trace's and argdist's expressions: in a u: probe, arg1..argN name the probe's own arguments
// (where the compiler left them at the probe site), not registers. Each one an expression uses is read once at the
// top of the handler with bpf_usdt_readarg into a 64-bit local (signed when the probe's spec says so, at any of
// its locations), and the expression names that local. A number beyond the probe's argument count is a usage
// error naming the count. BCC's u:LIB:PROVIDER:PROBE form (the provider named) is taken here too.
import { UsageError } from "./errors.js";
import { parseProbeSpec, type ProbePlan, type ProbeSpec, type ProbeType } from "./probe-spec.js";

const ARG = /\barg(\d+)\b/g;

/** The C name of USDT argument n inside a handler. */
const local = (n: number): string => `__usdt_arg${n}`;

/** `expr` with arg1..argN replaced by the handler's locals. */
export function usdtAliases(expr: string): string {
  return expr.replace(ARG, (_m, n: string) => local(Number(n)));
}

/** The probe's argument count (the smallest over its locations) and, per argument, whether it is signed. */
function argShape(plan: ProbePlan): { count: number; signed: boolean[] } {
  const name = plan.targets[0]!.name;
  const probes = (plan.usdt?.enabled() ?? []).map((e) => e.probe).filter((p) => `${p.provider}:${p.name}` === name);
  const locations = probes.flatMap((p) => p.locations);
  const count = locations.length ? Math.min(...locations.map((l) => l.args.length)) : 0;
  const signed = Array.from({ length: count }, (_x, i) => locations.some((l) => l.args[i]!.signed));
  return { count, signed };
}

/**
 * C declarations reading every USDT argument that `texts` (the probe's expressions and filter) name, for a u:
 * plan ("" otherwise). `ctx` is the handler's struct pt_regs pointer.
 */
export function usdtArgReads(tool: string, plan: ProbePlan, texts: readonly (string | undefined)[], ctx = "ctx"): string {
  if (plan.spec.type !== "u") return "";
  const used = new Set<number>();
  for (const t of texts) for (const m of (t ?? "").matchAll(ARG)) used.add(Number(m[1]));
  if (used.size === 0) return "";
  const { count, signed } = argShape(plan);
  const name = plan.targets[0]!.name;
  return [...used].sort((a, b) => a - b).map((n) => {
    if (n < 1 || n > count) {
      const has = count === 0 ? "no arguments" : count === 1 ? "1 argument (arg1)" : `${count} arguments (arg1..arg${count})`;
      throw new UsageError(tool, `USDT probe ${name} has ${has}; there is no arg${n}`);
    }
    return `    ${signed[n - 1] ? "s64" : "u64"} ${local(n)} = 0;\n    bpf_usdt_readarg(${n}, ${ctx}, &${local(n)});\n`;
  }).join("");
}

/** parseProbeSpec, plus BCC's u:LIB:PROVIDER:PROBE (the probe of that provider only). */
export function parseUsdtAwareSpec(tool: string, text: string, allow: readonly ProbeType[]): ProbeSpec {
  const parts = typeof text === "string" ? text.split(":") : [];
  if (parts.length === 4 && parts[0] === "u" && allow.includes("u") && parts.every((x, i) => i === 0 || x !== "")) {
    return { type: "u", library: parts[1]!, pattern: `${parts[2]}:${parts[3]}`, text };
  }
  return parseProbeSpec(tool, text, allow);
}
