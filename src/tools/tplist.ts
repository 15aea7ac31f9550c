// tplist: lists the kernel's tracepoints (category:event), with -v their fields from tracefs' format files.
// With -l LIB / -p PID it lists USDT probes instead (of a binary or library, or of a process's executable and
// libraries), with -v their locations and arguments.
import { readFileSync } from "node:fs";
import { listTracepoints, tracepointFormatPath, USDT, type UsdtProbe } from "../index.js";
import { UsageError } from "./lib/errors.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { pidOption } from "./lib/options.js";

const NAME = "tplist";

export interface TracepointField {
  type: string;
  name: string;
  /** The declaration as in the format file, e.g. "char prev_comm[16]". */
  declaration: string;
  offset: number;
  size: number;
  signed: boolean;
}

export interface TracepointInfo {
  /** "category:event". */
  name: string;
  /** The tracepoint's own fields (the common_* header fields left out), when asked for. */
  fields?: TracepointField[];
}

/** Parses a tracepoint format file's field lines (common_* fields left out). */
export function parseFormatFields(text: string): TracepointField[] {
  const out: TracepointField[] = [];
  for (const m of text.matchAll(/^\s*field:([^;]+);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/gm)) {
    const declaration = m[1].trim();
    const nm = /([A-Za-z_]\w*)\s*(\[[^\]]*\])?$/.exec(declaration);
    const name = nm ? nm[1] : declaration;
    if (name.startsWith("common_")) continue;
    const type = nm ? declaration.slice(0, nm.index).trim() + (nm[2] ?? "") : declaration;
    out.push({ type, name, declaration, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === "1" });
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`);
}

/** tplist as a library: the tracepoints matching `filter` (a glob on "category:event"). */
export function tplist(opts: { filter?: string; fields?: boolean } = {}): TracepointInfo[] {
  if (opts.filter !== undefined && typeof opts.filter !== "string") throw new UsageError(NAME, "filter must be a string");
  const re = opts.filter ? globToRegExp(opts.filter.includes(":") ? opts.filter : `${opts.filter}`) : undefined;
  return listTracepoints().filter((tp) => !re || re.test(tp) || re.test(tp.split(":")[1])).map((name) => {
    if (!opts.fields) return { name };
    const [cat, evt] = name.split(":");
    let text = "";
    try {
      text = readFileSync(tracepointFormatPath(cat, evt), "utf8");
    } catch {
      // unreadable format: no fields
    }
    return { name, fields: parseFormatFields(text) };
  });
}

/** tplist -l/-p as a library: the USDT probes of a binary/library or a process, filtered by a glob on "provider:name". */
export function usdtProbes(opts: { pid?: number; lib?: string; filter?: string }): UsdtProbe[] {
  if (opts === null || typeof opts !== "object" || (opts.pid === undefined && opts.lib === undefined)) throw new UsageError(NAME, "give pid or lib");
  if (opts.filter !== undefined && typeof opts.filter !== "string") throw new UsageError(NAME, "filter must be a string");
  let probes: UsdtProbe[];
  try {
    probes = opts.lib !== undefined ? new USDT({ path: opts.lib, ...(opts.pid !== undefined ? { pid: opts.pid } : {}) }).probes() : USDT.listProbes(opts.pid!);
  } catch (e) {
    throw new UsageError(NAME, (e as Error).message);
  }
  const re = opts.filter ? globToRegExp(opts.filter) : undefined;
  return probes.filter((p) => !re || re.test(`${p.provider}:${p.name}`) || re.test(p.name));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Display kernel tracepoints or USDT probes and their formats.",
  json: "list",
  options: [
    pidOption("List USDT probes in the specified process"),
    { name: "lib", short: "l", long: "lib", kind: "value", help: "List USDT probes in the specified library or executable" },
    { name: "verbose", short: "v", kind: "count", help: "Increase verbosity level (print variables, arguments, etc.)" },
  ],
  positionals: [{ name: "filter", help: "A filter that specifies which probes/tracepoints to print" }],
  examples: [
    ["tsbcc tplist", "list every tracepoint"],
    ["tsbcc tplist 'sched:*'", "the scheduler's tracepoints"],
    ["tsbcc tplist -v sched:sched_switch", "with its fields"],
    ["tsbcc tplist --json -v 'block:*'", "as JSON, one tracepoint per line"],
    ["tsbcc tplist -l /usr/bin/node", "the USDT probes of a binary"],
    ["tsbcc tplist -l c -v", "libc's USDT probes with their locations and arguments"],
    ["tsbcc tplist -p 185 'node:gc*'", "USDT probes of process 185 (executable and libraries) matching a glob"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.pid !== undefined || o.lib !== undefined) {
    for (const p of usdtProbes({ pid: o.pid, lib: o.lib, filter: o.filter })) {
      if (run.json) run.emit({ binary: p.binPath, provider: p.provider, name: p.name, locations: p.locations.length, arguments: p.numArguments,
        semaphore: p.semaphore ? `0x${p.semaphore.toString(16)}` : undefined });
      else run.out.write(`${USDT.formatProbes([p], o.verbose > 0)}\n`);
    }
    return 0;
  }
  for (const tp of tplist({ filter: o.filter, fields: o.verbose > 0 })) {
    if (run.json) {
      run.emit(tp);
      continue;
    }
    run.out.write(`${tp.name}\n`);
    for (const f of tp.fields ?? []) run.out.write(`    ${f.declaration};\n`);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
