// Compiler diagnostics in terms of the user's file.
//
// clang prints `file:line:col: severity: message` followed by notes. A diagnostic located in one of our headers
// (a map macro's expansion, say) is moved to the first "expanded from"/"in instantiation" note that points into
// the user's file, which is where the user wrote the macro. Positions in the rewritten text are mapped back
// through the rewriter's segments.
import { ErrorCode, TsbccError } from "../errors.js";
import { LineIndex, SourceMap } from "./edits.js";

export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  message: string;
  /** The user's source line (empty when unknown). */
  sourceLine: string;
}

/** The program did not compile: clang's or the rewriter's diagnostics, in terms of the user's file. */
export class DialectError extends TsbccError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], summary?: string) {
    // clang repeats some backend errors once per pass or per function (the stack limit three times): say it once.
    const unique = diagnostics.filter((d, i) => diagnostics.findIndex((e) => e.file === d.file && e.line === d.line &&
      e.column === d.column && e.severity === d.severity && e.message === d.message) === i);
    super(ErrorCode.COMPILE, summary || formatDiagnostics(unique.filter((d) => d.severity === "error")) || "BPF program compilation failed");
    this.diagnostics = unique;
  }
}

export function formatDiagnostics(diags: Diagnostic[]): string {
  return diags
    .map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.sourceLine ? `\n  ${d.sourceLine}` : ""}`)
    .join("\n");
}

export interface RawDiagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  message: string;
  notes: RawDiagnostic[];
}

const LINE_RE = /^(.*?):(\d+):(\d+): (fatal error|error|warning|note|remark): (.*)$/;

/** Parses clang's stderr (with -fno-caret-diagnostics or not: non-matching lines are ignored). */
export function parseClangOutput(stderr: string): RawDiagnostic[] {
  const out: RawDiagnostic[] = [];
  const pending: RawDiagnostic[] = [];
  for (const line of stderr.split("\n")) {
    const m = LINE_RE.exec(line);
    if (!m) {
      // "In file included from x:1:" lines precede a diagnostic; keep them as notes of the next one.
      const inc = /^In file included from (.*?):(\d+):/.exec(line) ?? /^\s+from (.*?):(\d+):/.exec(line);
      if (inc) pending.push({ file: inc[1]!, line: Number(inc[2]), column: 1, severity: "note", message: "included from here", notes: [] });
      continue;
    }
    const sev = m[4] === "fatal error" ? "error" : m[4] === "remark" ? "note" : (m[4] as Severity);
    const d: RawDiagnostic = { file: m[1]!, line: Number(m[2]), column: Number(m[3]), severity: sev, message: m[5]!, notes: [] };
    if (sev === "note" && out.length) out[out.length - 1]!.notes.push(d);
    else {
      d.notes.push(...pending.splice(0));
      out.push(d);
    }
  }
  return out;
}

/** Maps positions of one compiled file back to the user's file. */
export interface PositionMapper {
  /** The clang path of the compiled main file. */
  compiledFile: string;
  /** Maps a (line, col) of the compiled file to the user's (line, col), or undefined. */
  map(line: number, col: number): { line: number; col: number } | undefined;
}

/** Identity mapping: the compiled file is the user's text. */
export function identityMapper(compiledFile: string): PositionMapper {
  return { compiledFile, map: (line, col) => ({ line, col }) };
}

/** Mapping through rewrite segments; `prefixBytes` is the length of text prepended before the rewritten body. */
export function rewriteMapper(compiledFile: string, compiledText: string, userText: string, sourceMap: SourceMap): PositionMapper {
  const compiled = new LineIndex(compiledText);
  const user = new LineIndex(userText);
  return {
    compiledFile,
    map(line, col) {
      const off = compiled.offsetOf(line, col);
      const u = sourceMap.toUser(off);
      if (!u) return undefined;
      return user.position(u.user);
    },
  };
}

/** Converts clang's diagnostics to user-file diagnostics. */
export function toUserDiagnostics(raw: RawDiagnostic[], mapper: PositionMapper, userFile: string, userText: string): Diagnostic[] {
  const lines = new LineIndex(userText);
  const out: Diagnostic[] = [];
  for (const d of raw) {
    let pos: { line: number; col: number } | undefined;
    if (d.file === mapper.compiledFile) pos = mapper.map(d.line, d.column);
    if (!pos) {
      // In a header: use the first note that points into the user's file (macro expansion, include site).
      for (const n of d.notes) {
        if (n.file === mapper.compiledFile) {
          pos = mapper.map(n.line, n.column);
          if (pos) break;
        }
      }
    }
    if (pos) {
      pos = stackLimitCulprit(d.message, pos, userText) ?? pos;
      out.push({ file: userFile, line: pos.line, column: pos.col, severity: d.severity, message: d.message, sourceLine: lines.lineText(pos.line) });
    } else {
      out.push({ file: d.file, line: d.line, column: d.column, severity: d.severity, message: d.message, sourceLine: "" });
    }
  }
  return out;
}

/**
 * clang reports an exceeded BPF stack at the function, not at what fills it. Points instead at the largest local
 * array declared in that function's body (the usual culprit), when one is found before the function ends.
 */
export function stackLimitCulprit(message: string, at: { line: number; col: number }, userText: string): { line: number; col: number } | undefined {
  if (!/stack limit of \d+ bytes is exceeded/.test(message)) return undefined;
  const lines = userText.split("\n");
  let best: { line: number; col: number; count: number } | undefined;
  let depth = 0, opened = false;
  for (let i = at.line - 1; i < lines.length; i++) {
    const text = lines[i]!;
    for (const m of text.matchAll(/\b[A-Za-z_][\w ]*?\s\**\s*\w+\s*\[\s*(\d+)\s*\]\s*(?:[;=,])/g)) {
      const count = Number(m[1]);
      if (opened && (!best || count > best.count)) best = { line: i + 1, col: (m.index ?? 0) + 1 + (text.slice(m.index).length - text.slice(m.index).trimStart().length), count };
    }
    for (const ch of text) {
      if (ch === "{") { depth++; opened = true; } else if (ch === "}") depth--;
    }
    if (opened && depth <= 0) break;
  }
  return best && { line: best.line, col: best.col };
}

/** Rewrites clang's messages about our analyze-mode map structs into the dialect's own words. */
export function dialectMessage(message: string): string {
  let m = /^no member named '(\w+)' in 'struct __tsbcc_map_(\w+)'(; did you mean '(\w+)'\?)?$/.exec(message);
  if (m) return `unknown map method ${m[1]} on map ${m[2]}${m[4] ? ` (did you mean ${m[4]}?)` : ""}`;
  if (/^implicit declaration of function 'bpf_usdt_readarg(_p)?'/.test(message)) {
    return "bpf_usdt_readarg reads USDT probe arguments: give BPF.load the USDT contexts whose enableProbe binds this function (usdtContexts: [new USDT({ pid }).enableProbe({ probe, fnName })])";
  }
  m = /^field has incomplete type '(.*)'$/.exec(message);
  if (m) return `unknown type ${m[1]} (is it defined before the map that uses it?)`;
  return message;
}
