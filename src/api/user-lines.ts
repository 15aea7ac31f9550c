// Errors about a map or a program function name the line of the user's C where it was declared: "cannot create
// map counts" or "cannot attach raw tracepoint foo" is found at once when followed by "at prog.c:12". Found by
// searching the source for the declaration (BPF_* map macros, the function, or the *_PROBE macro that makes it).
import { TsbccError } from "../errors.js";

export interface UserSource {
  file: string;
  text: string;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Patterns that declare what the name is: a map's BPF_* macro, or a function (directly or by a macro). */
function patterns(what: { map?: string; fn?: string }): RegExp[] {
  if (what.map !== undefined) return [new RegExp(`\\bBPF_[A-Z0-9_]+\\s*\\((?:[^()]|\\([^()]*\\))*?\\b${escape(what.map)}\\b`)];
  const fn = what.fn ?? "";
  const out = [new RegExp(`\\b${escape(fn)}\\s*\\(`)];
  let m = /^tracepoint__(\w+?)__(\w+)$/.exec(fn);
  if (m) out.push(new RegExp(`\\bTRACEPOINT_PROBE\\s*\\(\\s*${escape(m[1]!)}\\s*,\\s*${escape(m[2]!)}\\s*\\)`));
  m = /^raw_tracepoint__(\w+)$/.exec(fn);
  if (m) out.push(new RegExp(`\\bRAW_TRACEPOINT_PROBE\\s*\\(\\s*${escape(m[1]!)}\\s*\\)`));
  return out;
}

/** `{ line, text }` of the declaration, or undefined when the source does not show it. */
export function declarationLine(source: UserSource | undefined, what: { map?: string; fn?: string }): { line: number; text: string } | undefined {
  if (!source) return undefined;
  const lines = source.text.split("\n");
  for (const re of patterns(what)) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return { line: i + 1, text: lines[i]!.trim() };
  }
  return undefined;
}

/** Appends "at file:line" and the line's text to a TsbccError's message (once); other errors pass unchanged. */
export function locatedAt(e: unknown, source: UserSource | undefined, what: { map?: string; fn?: string }): unknown {
  if (!(e instanceof TsbccError) || (e as { userLine?: number }).userLine !== undefined) return e;
  const at = declarationLine(source, what);
  if (!at) return e;
  Object.defineProperty(e, "userLine", { value: at.line, enumerable: true });
  e.message += `\n  at ${source!.file}:${at.line}\n    ${at.text}`;
  return e;
}
