// What every tool shares: the run context (output streams, an abort signal for Ctrl-C) and a small,
// BCC-like argument parser (short and long options, --help).
import { ErrorCode, TsbccError } from "../errors.js";

export interface ToolContext {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  /** Aborted on SIGINT/SIGTERM: tools finish their output (e.g. print a histogram) and return. */
  signal: AbortSignal;
}

export interface ParsedArgs {
  help: boolean;
  flags: Record<string, boolean>;
  options: Record<string, string | undefined>;
  positional: string[];
}

export class UsageError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.USAGE, message);
  }
}

/** `flags` and `options` map short letters (and the long names themselves) to long names. */
export function parseArgs(argv: string[], spec: { flags?: Record<string, string>; options?: Record<string, string> }): ParsedArgs {
  const flags: Record<string, boolean> = {};
  const options: Record<string, string | undefined> = {};
  const positional: string[] = [];
  const flagNames = new Map<string, string>();
  const optNames = new Map<string, string>();
  for (const [k, v] of Object.entries(spec.flags ?? {})) { flagNames.set(k, v); flagNames.set(v, v); }
  for (const [k, v] of Object.entries(spec.options ?? {})) { optNames.set(k, v); optNames.set(v, v); }
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") { help = true; continue; }
    if (!arg.startsWith("-") || arg === "-") { positional.push(arg); continue; }
    const [rawName, inline] = arg.replace(/^--?/, "").split(/=(.*)/s, 2);
    if (flagNames.has(rawName)) { flags[flagNames.get(rawName)!] = true; continue; }
    if (optNames.has(rawName)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`option ${arg} needs a value`);
      options[optNames.get(rawName)!] = value;
      continue;
    }
    throw new UsageError(`unknown option ${arg}`);
  }
  return { help, flags, options, positional };
}
