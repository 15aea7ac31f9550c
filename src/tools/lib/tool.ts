// A tool = a spec (name, one-line description, options, examples, event sources) + `main`, run by `runTool`,
// which adds what every tool shares: -h/--help, --json, -v (says which event source is used), --source (forces
// one), argparse-style usage errors (exit 2), the event-source choice by probing, and clean error reporting;
// histogram/counter tools (json "interval") also get --prometheus/--otlp (./exporter-options.ts).
import { TsbccError } from "../../errors.js";
import { formatSynopsis, formatUsage, parseCommandLine, type ArgsSpec, type OptionSpec, type ParsedValues, type PositionalSpec } from "./args.js";
import { UsageError } from "./errors.js";
import { requireTracingPrivileges } from "../../kernel/privileges.js";
import { EXPORTER_OPTIONS, withExporters } from "./exporter-options.js";
import { setRunErr } from "./report-sink.js";
import { chooseSource, describeSource, SOURCE_KINDS, type ChosenSource, type SourceCandidate, type SourceKind } from "./source.js";

export interface ToolContext {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  /** Aborted on SIGINT/SIGTERM: tools print their summary, detach and return. */
  signal: AbortSignal;
}

export interface ToolSpec {
  name: string;
  /** One line, shown by `tsbcc --help` and at the top of the tool's --help. */
  description: string;
  options: readonly OptionSpec[];
  positionals?: readonly PositionalSpec[];
  examples: ReadonlyArray<readonly [string, string]>;
  /** Event sources the tool has programs for, most precise first (adds --source). */
  sources?: readonly SourceCandidate[];
  /** What --json prints: "event" (one object per event) or "interval" (one IntervalReport per interval). */
  json: "event" | "interval" | "list";
}

/** What `main` receives besides its parsed options. */
export interface ToolRun extends ToolContext {
  json: boolean;
  verbose: number;
  /** The chosen event source (tools with `sources`). */
  source?: ChosenSource;
  /** Prints one JSON object as one line. */
  emit(obj: unknown): void;
}

export interface CliTool {
  spec: ToolSpec;
  main(values: ParsedValues, run: ToolRun): Promise<number>;
}

const COMMON: Record<string, OptionSpec> = {
  json: { name: "json", long: "json", kind: "flag", help: "print one JSON object per line (per event or per interval) instead of text" },
  verbose: { name: "verbose", short: "v", long: "verbose", kind: "count", help: "say which event source is used (and more detail)" },
};

function sourceOption(spec: ToolSpec): OptionSpec {
  const kinds = [...new Set(spec.sources!.map((s) => s.kind))];
  return { name: "source", long: "source", kind: "value", metavar: "KIND", choices: SOURCE_KINDS, help: `force the event source (${kinds.join(", ")})` };
}

/** The argparse spec of a tool: its own options plus the shared ones. */
export function argsSpec(spec: ToolSpec): ArgsSpec {
  const options = [...spec.options];
  const has = (name: string, short?: string): boolean => options.some((o) => o.name === name || (short && o.short === short));
  if (!has("verbose", "v")) options.push(COMMON.verbose);
  options.push(COMMON.json);
  if (spec.sources?.length) options.push(sourceOption(spec));
  if (spec.json === "interval") options.push(...EXPORTER_OPTIONS.filter((o) => !has(o.name)));
  return { prog: `tsbcc ${spec.name}`, description: spec.description, options, positionals: spec.positionals, examples: spec.examples };
}

export function toolUsage(spec: ToolSpec): string {
  return formatUsage(argsSpec(spec));
}

/** JSON with bigints as numbers when safe, else as decimal strings. */
export function jsonLine(obj: unknown): string {
  return JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v)) + "\n";
}

/**
 * Output coalesced per event-loop turn: a busy snooper prints thousands of lines per drain, and one write per line
 * (a syscall each on a pipe) would cost more than decoding the events.
 */
function bufferedOut(out: ToolContext["out"]): ToolContext["out"] & { flush(): void } {
  let buf = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (buf) {
      const chunk = buf;
      buf = "";
      out.write(chunk);
    }
  };
  return {
    write(s: string) {
      buf += s;
      if (buf.length >= 1 << 16) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return true;
    },
    flush,
  };
}

/** Runs a tool from a command line; returns the exit status (0 ok, 1 failure, 2 usage). */
export async function runTool(tool: CliTool, argv: readonly string[], context: ToolContext): Promise<number> {
  const out = bufferedOut(context.out);
  try {
    return await runToolUnbuffered(tool, argv, { ...context, out });
  } finally {
    out.flush();
  }
}

async function runToolUnbuffered(tool: CliTool, argv: readonly string[], ctx: ToolContext): Promise<number> {
  const args = argsSpec(tool.spec);
  try {
    const { help, values } = parseCommandLine(args, argv);
    if (help) {
      ctx.out.write(formatUsage(args));
      return 0;
    }
    // Before anything else: without privileges tracefs (mode 0700) merely looks unmounted.
    requireTracingPrivileges(args.prog);
    const run: ToolRun = { ...ctx, json: values.json === true, verbose: values.verbose ?? 0, emit: (o) => ctx.out.write(jsonLine(o)) };
    if (tool.spec.sources?.length) {
      run.source = chooseSource(tool.spec.name, tool.spec.sources, values.source as SourceKind | undefined);
      if (run.verbose) ctx.err.write(`${tool.spec.name}: event source: ${describeSource(run.source)}\n`);
    }
    setRunErr(ctx.signal, ctx.err);
    return await withExporters(args.prog, values, ctx.err, () => tool.main(values, run));
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.err.write(`${formatSynopsis(args)}\n${args.prog}: error: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof TsbccError || e instanceof Error ? e.message : String(e);
    ctx.err.write(`${args.prog}: ${msg.startsWith(`${tool.spec.name}:`) ? msg.slice(tool.spec.name.length + 2) : msg}\n`);
    if (debugEnabled()) ctx.err.write(`${(e as Error)?.stack ?? ""}\n`);
    return 1;
  }
}

function debugEnabled(): boolean {
  return process.env.TSBCC_DEBUG === "1";
}

/**
 * The CLI loop of an event tool: under --json each event as one JSON line with `time` (plus what `json` adds),
 * else the text line `text(ev)` returns. Returns the exit status.
 */
export async function printEvents<T extends object>(stream: AsyncIterable<T>, run: ToolRun, text: (ev: T) => string,
  json: (ev: T) => object = (ev) => ev): Promise<number> {
  for await (const ev of stream) {
    if (run.json) run.emit({ time: new Date().toISOString(), ...json(ev) });
    else run.out.write(text(ev));
  }
  return 0;
}
