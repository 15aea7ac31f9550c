// Command-line parsing with BCC's (argparse's) conventions: short flags that combine (`-Tx`), short options
// with attached or separate values (`-p123`, `-p 123`), long options with `=` or a separate value, repeatable
// options, optional positionals (interval, count), `-h/--help`, and errors that name the argument as argparse
// does ("argument -p/--pid: invalid int value: 'x'"). The same specs print the usage text.
import { UsageError } from "./errors.js";

export type ValueParser = "int" | "uint" | "number" | "string" | ((text: string) => unknown);

export interface OptionSpec {
  /** Key in the parsed values (e.g. "pid"). */
  name: string;
  short?: string;
  long?: string;
  /** flag: boolean; value: one value; list: repeatable, values collected; count: how many times given. */
  kind: "flag" | "value" | "list" | "count";
  metavar?: string;
  parse?: ValueParser;
  /** Allowed values (checked after parsing). */
  choices?: readonly string[];
  help: string;
  default?: unknown;
  /** Accepted but left out of --help (argparse's SUPPRESS, as BCC does for --ebpf). */
  hidden?: boolean;
}

export interface PositionalSpec {
  name: string;
  help: string;
  parse?: ValueParser;
  /** Positionals are optional (BCC's interval/count), unless `required`. */
  required?: boolean;
  /** Takes every remaining argument (e.g. a command to run). */
  rest?: boolean;
  /**
   * With `rest`: options may still follow (argparse's nargs="+", as in `trace 'probe' -n main`), where a command
   * to run keeps its own options (`memleak -c 'cmd -x'`). `--` ends the options either way.
   */
  interleaved?: boolean;
  default?: unknown;
}

export interface ArgsSpec {
  /** Program name shown in messages, e.g. "tsbcc opensnoop". */
  prog: string;
  description: string;
  options: readonly OptionSpec[];
  positionals?: readonly PositionalSpec[];
  /** [command line, comment] pairs printed under "examples:". */
  examples?: ReadonlyArray<readonly [string, string]>;
}

export type ParsedValues = Record<string, any>;

function label(o: OptionSpec): string {
  return [o.short && `-${o.short}`, o.long && `--${o.long}`].filter(Boolean).join("/");
}

function convert(spec: ArgsSpec, what: string, parse: ValueParser | undefined, text: string, choices?: readonly string[]): unknown {
  let v: unknown = text;
  const bad = (kind: string): never => { throw new UsageError(spec.prog, `argument ${what}: invalid ${kind} value: '${text}'`); };
  if (parse === "int" || parse === "uint") {
    if (!/^[-+]?\d+$/.test(text.trim())) bad("int");
    v = Number(text);
    if (parse === "uint" && (v as number) < 0) throw new UsageError(spec.prog, `argument ${what}: must be zero or positive: '${text}'`);
  } else if (parse === "number") {
    v = Number(text);
    if (text.trim() === "" || Number.isNaN(v)) bad("float");
  } else if (typeof parse === "function") {
    try {
      v = parse(text);
    } catch (e) {
      throw new UsageError(spec.prog, `argument ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (choices && !choices.includes(String(v))) {
    throw new UsageError(spec.prog, `argument ${what}: invalid choice: '${text}' (choose from ${choices.map((c) => `'${c}'`).join(", ")})`);
  }
  return v;
}

/** Parses `argv`; `help` is true when -h/--help was given (values are then incomplete). */
export function parseCommandLine(spec: ArgsSpec, argv: readonly string[]): { help: boolean; values: ParsedValues } {
  const values: ParsedValues = {};
  for (const o of spec.options) {
    values[o.name] = o.default ?? (o.kind === "flag" ? false : o.kind === "count" ? 0 : o.kind === "list" ? [] : undefined);
  }
  for (const p of spec.positionals ?? []) values[p.name] = p.default ?? (p.rest ? [] : undefined);
  const byShort = new Map(spec.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const byLong = new Map(spec.options.filter((o) => o.long).map((o) => [o.long!, o]));
  const positional: string[] = [];
  let help = false;
  const take = (o: OptionSpec, text: string): void => {
    const v = convert(spec, `${label(o)}`, o.parse, text, o.choices);
    if (o.kind === "list") values[o.name] = [...(values[o.name] as unknown[]), v];
    else values[o.name] = v;
  };
  const set = (o: OptionSpec): void => {
    if (o.kind === "count") values[o.name] = (values[o.name] as number) + 1;
    else values[o.name] = true;
  };
  let onlyPositional = false;
  // Once a "rest" positional (a command and its arguments) has started, everything belongs to it.
  const restIndex = (spec.positionals ?? []).findIndex((p) => p.rest && !p.interleaved);
  // As in argparse, "-4" is a negative number unless the tool has options that look like one (-4/-6).
  const digitOptions = spec.options.some((o) => o.short !== undefined && /^\d$/.test(o.short));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositional || arg === "-" || !arg.startsWith("-") || (/^-\d/.test(arg) && !digitOptions) || (restIndex >= 0 && positional.length > restIndex)) {
      positional.push(arg);
      continue;
    }
    if (arg === "--") { onlyPositional = true; continue; }
    if (arg === "-h" || arg === "--help") { help = true; continue; }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      // argparse accepts unambiguous prefixes of long options.
      let o = byLong.get(name);
      if (!o) {
        const matches = [...byLong.keys()].filter((k) => k.startsWith(name));
        if (matches.length > 1) throw new UsageError(spec.prog, `ambiguous option: --${name} could match ${matches.map((m) => `--${m}`).join(", ")}`);
        if (matches.length === 1) o = byLong.get(matches[0]);
      }
      if (!o) throw new UsageError(spec.prog, `unrecognized arguments: ${arg}`);
      if (o.kind === "flag" || o.kind === "count") {
        if (eq >= 0) throw new UsageError(spec.prog, `argument ${label(o)}: ignored explicit argument '${arg.slice(eq + 1)}'`);
        set(o);
      } else {
        const text = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (text === undefined) throw new UsageError(spec.prog, `argument ${label(o)}: expected one argument`);
        take(o, text);
      }
      continue;
    }
    // A cluster of short options: flags, then possibly one option taking the rest (or the next word) as value.
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j];
      if (ch === "h") { help = true; continue; }
      const o = byShort.get(ch);
      if (!o) throw new UsageError(spec.prog, `unrecognized arguments: ${j === 1 ? arg : `-${ch}`}`);
      if (o.kind === "flag" || o.kind === "count") { set(o); continue; }
      const text = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
      if (text === undefined) throw new UsageError(spec.prog, `argument ${label(o)}: expected one argument`);
      take(o, text);
      break;
    }
  }
  if (help) return { help, values };
  const specs = spec.positionals ?? [];
  let k = 0;
  for (const p of specs) {
    if (p.rest) { values[p.name] = positional.slice(k); k = positional.length; break; }
    if (k < positional.length) values[p.name] = convert(spec, p.name, p.parse, positional[k++]);
    else if (p.required) throw new UsageError(spec.prog, `the following arguments are required: ${p.name}`);
  }
  if (k < positional.length) throw new UsageError(spec.prog, `unrecognized arguments: ${positional.slice(k).join(" ")}`);
  return { help, values };
}

function synopsisPart(o: OptionSpec): string {
  const flag = o.short ? `-${o.short}` : `--${o.long}`;
  if (o.kind === "flag" || o.kind === "count") return `[${flag}]`;
  return `[${flag} ${o.metavar ?? o.name.toUpperCase()}]`;
}

/** argparse's first line: `usage: prog [-h] [-T] [-p PID] [interval] [count]`, wrapped at 80 columns. */
export function formatSynopsis(spec: ArgsSpec): string {
  const parts = ["[-h]", ...spec.options.filter((o) => !o.hidden).map(synopsisPart),
    ...(spec.positionals ?? []).map((p) => (p.required ? p.name : p.rest ? `[${p.name} ...]` : `[${p.name}]`))];
  const head = `usage: ${spec.prog} `;
  const lines: string[] = [];
  let line = head;
  for (const part of parts) {
    if (line.length + part.length > 79 && line.trim() !== head.trim()) {
      lines.push(line.trimEnd());
      line = " ".repeat(head.length);
    }
    line += part + " ";
  }
  lines.push(line.trimEnd());
  return lines.join("\n");
}

function helpRows(rows: Array<[string, string]>): string {
  return rows.map(([left, text]) => {
    const l = `  ${left}`;
    return l.length <= 22 ? `${l.padEnd(24)}${text}` : `${l}\n${" ".repeat(24)}${text}`;
  }).join("\n");
}

/** The whole `--help` text: synopsis, description, positionals, options, examples. */
export function formatUsage(spec: ArgsSpec): string {
  const out = [formatSynopsis(spec), "", spec.description];
  if (spec.positionals?.length) {
    out.push("", "positional arguments:", helpRows(spec.positionals.map((p) => [p.name, p.help])));
  }
  const optRows: Array<[string, string]> = [["-h, --help", "show this help message and exit"]];
  for (const o of spec.options) {
    if (o.hidden) continue;
    const meta = o.kind === "flag" || o.kind === "count" ? "" : ` ${o.metavar ?? o.name.toUpperCase()}`;
    optRows.push([[o.short && `-${o.short}${meta}`, o.long && `--${o.long}${meta}`].filter(Boolean).join(", "), o.help]);
  }
  out.push("", "options:", helpRows(optRows));
  if (spec.examples?.length) {
    const width = Math.max(...spec.examples.map(([cmd]) => cmd.length)) + 2;
    out.push("", "examples:", ...spec.examples.map(([cmd, note]) => `    ${cmd.padEnd(width)}# ${note}`));
  }
  return out.join("\n") + "\n";
}
