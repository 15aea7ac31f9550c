// Event-source choice, by probing, in order of precision: fentry/fexit, kprobes, tracepoints, raw tracepoints.
// A tool lists the sources it has a program for; each is tried on the running kernel (feature probe + target
// lookup), the first that works is used, `--source KIND` forces one, and `-v` prints the choice. Kernel functions
// are looked up, not hard-coded: a target may name alternatives ("a|b", renamed across versions) and matches
// compiler-suffixed copies (`finish_task_switch.isra.0`). With no usable source the error lists every reason.
import { existsSync } from "node:fs";
import { BPF, haveFentry, haveKprobes, haveRawTracepoints, tracepointExists } from "../../index.js";
import { NoEventSourceError, UsageError } from "./errors.js";
import { ErrorCode, TsbccError } from "../../errors.js";

export const SOURCE_KINDS = ["fentry", "kprobe", "tracepoint", "raw_tracepoint", "uprobe", "usdt", "perf_event"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceCandidate {
  kind: SourceKind;
  /**
   * fentry/kprobe: kernel functions; tracepoint: "category:event"; raw_tracepoint: "category:event" too (the
   * category is only checked for existence). "a|b" means the first of a, b that exists; a trailing "?" marks an
   * optional target (used when present, e.g. sys_enter_open next to sys_enter_openat). uprobe: "library:function";
   * usdt: "binary:provider:probe" (checked when attached); perf_event: the event's name ("software:cpu-clock").
   */
  targets: readonly string[];
}

export interface ChosenSource {
  kind: SourceKind;
  /** The resolved targets that exist (alternatives and suffixes resolved, missing optional ones left out). */
  targets: string[];
  forced: boolean;
}

export function describeSource(s: ChosenSource): string {
  return `${s.kind.replace("_", " ")} ${s.targets.join(", ")}${s.forced ? " (forced)" : ""}`;
}

/** What each kind needs from the kernel, for "no source" messages. */
const NEEDS: Record<SourceKind, string> = {
  fentry: "fentry/fexit (BPF trampolines, CONFIG_DEBUG_INFO_BTF + CONFIG_FUNCTION_TRACER, BPF_PROG_TYPE_TRACING loads)",
  kprobe: "kprobes (CONFIG_KPROBES)",
  tracepoint: "the tracepoints",
  raw_tracepoint: "raw tracepoints (BPF_PROG_TYPE_RAW_TRACEPOINT) and the tracepoints",
  uprobe: "uprobes (CONFIG_UPROBES, the uprobe PMU) and the probed binaries",
  usdt: "uprobes (CONFIG_UPROBES) and the binaries' USDT notes",
  perf_event: "perf events (perf_event_open of a software event) and BPF_PROG_TYPE_PERF_EVENT",
};

/** User-space and sampling sources: a PMU (or event source) directory in sysfs says the kernel has them. */
const EVENT_SOURCE_DIRS: Partial<Record<SourceKind, string>> = { uprobe: "uprobe", usdt: "uprobe", perf_event: "software" };

function userFeature(kind: SourceKind): { supported: boolean; reason: string } | undefined {
  const dir = EVENT_SOURCE_DIRS[kind];
  if (!dir) return undefined;
  return existsSync(`/sys/bus/event_source/devices/${dir}`) ? { supported: true, reason: "" }
    : { supported: false, reason: `no ${dir} PMU in /sys/bus/event_source/devices (kernel built without it)` };
}

/** uprobe targets are "library:function" (library as BCC names it: "c", a path, a program on PATH). */
function resolveUserTarget(target: string): string | undefined {
  const at = target.lastIndexOf(":");
  if (at <= 0) return existsSync(target) ? target : undefined;
  const lib = target.slice(0, at);
  const fn = target.slice(at + 1);
  try {
    const path = BPF.findLibrary(lib);
    if (!path) return undefined;
    return BPF.getUserFunctions(path, fn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).length > 0 ? `${lib}:${fn}` : undefined;
  } catch {
    return undefined;
  }
}

let functionCache: Map<string, string | undefined> | undefined;

/** The traceable kernel function for `name` (exact, or a compiler-suffixed copy), if any. */
function findFunction(name: string): string | undefined {
  functionCache ??= new Map();
  if (functionCache.has(name)) return functionCache.get(name);
  let found: string | undefined;
  try {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const all = BPF.getKprobeFunctions(`${escaped}(\\.(isra|constprop|part|cold|llvm)\\.\\d+)*`);
    found = all.includes(name) ? name : all.sort()[0];
  } catch {
    found = undefined;
  }
  functionCache.set(name, found);
  return found;
}

function resolveTarget(kind: SourceKind, target: string): string | undefined {
  for (const alt of target.split("|")) {
    if (kind === "fentry" || kind === "kprobe") {
      const f = findFunction(alt);
      if (f) return f;
    } else if (kind === "uprobe") {
      const f = resolveUserTarget(alt);
      if (f) return f;
    } else if (kind === "usdt" || kind === "perf_event") {
      return alt; // a USDT probe is looked up when its binary is known; a perf event is opened as the tool attaches
    } else {
      const [cat, evt] = alt.split(":");
      if (evt !== undefined && tracepointExists(cat, evt)) return alt;
    }
  }
  return undefined;
}

/** Why `c` cannot be used here, or the resolved targets. */
export function probeSource(c: SourceCandidate): { ok: true; targets: string[] } | { ok: false; reason: string } {
  const feature = c.kind === "fentry" ? haveFentry() : c.kind === "kprobe" ? haveKprobes() : c.kind === "raw_tracepoint" ? haveRawTracepoints() : userFeature(c.kind);
  if (feature && !feature.supported) return { ok: false, reason: `${c.kind}: ${feature.reason}` };
  const targets: string[] = [];
  for (const target of c.targets) {
    const optional = target.endsWith("?");
    const t = optional ? target.slice(0, -1) : target;
    const r = resolveTarget(c.kind, t);
    if (!r && optional) continue;
    if (!r) {
      const what = c.kind === "fentry" || c.kind === "kprobe" ? "kernel function" : c.kind === "uprobe" ? "user function" : "tracepoint";
      return { ok: false, reason: `${c.kind}: no ${what} ${t.split("|").join(" or ")} on this kernel` };
    }
    targets.push(r);
  }
  return { ok: true, targets };
}

/**
 * Picks the first usable candidate (they are given in order of precision), or the forced kind.
 * Throws NoEventSourceError listing every candidate's reason, and what the tool would need.
 */
export function chooseSource(tool: string, candidates: readonly SourceCandidate[], force?: SourceKind): ChosenSource {
  if (candidates.length === 0) throw new TsbccError(ErrorCode.STATE, `${tool}: no event source candidates`);
  let list = candidates;
  if (force) {
    list = candidates.filter((c) => c.kind === force);
    if (list.length === 0) {
      throw new UsageError(tool, `--source ${force}: ${tool} has no program for that source (it has: ${candidates.map((c) => c.kind).join(", ")})`);
    }
  }
  const reasons: string[] = [];
  for (const c of list) {
    const r = probeSource(c);
    if (r.ok) return { kind: c.kind, targets: r.targets, forced: force !== undefined };
    reasons.push(r.reason);
  }
  const needs = list.map((c) => `${NEEDS[c.kind]}: ${c.targets.filter((t) => !t.endsWith("?")).join(", ")}`).join("; or ");
  throw new NoEventSourceError(tool, reasons, needs);
}

/** Is `target` (e.g. "syscalls:sys_enter_open") among the chosen source's resolved targets? */
export function sourceHas(s: ChosenSource, target: string): boolean {
  return s.targets.includes(target);
}
