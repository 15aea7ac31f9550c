// Which kernel functions a kprobe may be put on: those ftrace lists as traceable (available_filter_functions),
// minus the kprobe blacklist and a few name patterns that are never useful or safe to probe (compiler split-off
// .cold parts, the perf subsystem that runs the probes, static-call trampolines). Used by eventRe attaches.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TracefsError, tracefsPath } from "./tracefs.js";
import { patternArgument } from "../errors.js";

const BLACKLIST = "/sys/kernel/debug/kprobes/blacklist";

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // Absent (kernel without kprobes, debugfs not mounted) or unreadable: not fatal for a listing.
    return undefined;
  }
}

/** Names on the kprobe blacklist ("0xstart-0xend\tname" lines; the addresses may read as zero without root). */
export function kprobeBlacklist(text = readOptional(BLACKLIST)): Set<string> {
  const out = new Set<string>();
  for (const line of (text ?? "").split("\n")) {
    const m = line.match(/^\S+\s+(\S+)/);
    if (m) out.add(m[1]!);
  }
  return out;
}

const NEVER = [/\.cold(\.\d+)?$/, /^__perf/, /^perf_/, /^__SCT__/, /^_kbl_addr_/];

/**
 * Traceable function names (deduplicated, in ftrace's order), from the text of available_filter_functions
 * ("name" or "name [module]" per line) and of the blacklist; exported pure for tests.
 */
export function traceableFromText(available: string, blacklist: Set<string>): string[] {
  const seen = new Set<string>();
  for (const line of available.split("\n")) {
    const name = line.split(/\s/, 1)[0];
    if (!name || seen.has(name) || blacklist.has(name) || NEVER.some((re) => re.test(name))) continue;
    seen.add(name);
  }
  return [...seen];
}

/** Kernel functions matching `re` (the whole name must match, like BCC's get_kprobe_functions). */
export function kprobeFunctions(re: RegExp | string): string[] {
  const whole = patternArgument("eventRe", re, "whole");
  let available: string;
  try {
    available = readFileSync(join(tracefsPath(), "available_filter_functions"), "utf8");
  } catch (e) {
    throw new TracefsError(`cannot list traceable kernel functions (<tracefs>/available_filter_functions): ${(e as Error).message}`, { cause: e });
  }
  return traceableFromText(available, kprobeBlacklist()).filter((f) => whole.test(f));
}
