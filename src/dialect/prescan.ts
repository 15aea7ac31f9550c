// Cheap lexical scans of the user's text, done before clang sees it.
//
// Tracepoint structs must exist before the analyze run (a use of an undefined `struct tracepoint__a__b` is an
// incomplete type there), so the tracepoints a program uses are found lexically, as BCC's pass 0 does with its
// own AST walk: `TRACEPOINT_PROBE(cat, evt)` invocations and `struct tracepoint__<cat>__<evt>` spellings.
import { splitTracepointName } from "../loader/sections.js";

/** The text with comments, string and character literals blanked to spaces (same length, newlines kept). */
export function blankCommentsAndStrings(text: string): string {
  const out = text.split("");
  let i = 0;
  const n = text.length;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < n) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      let j = i + 2;
      while (j < n && text[j] !== "\n") {
        if (text[j] === "\\" && text[j + 1] === "\n") j++;
        j++;
      }
      blank(i, j);
      i = j;
    } else if (c === "/" && text[i + 1] === "*") {
      const j = text.indexOf("*/", i + 2);
      const end = j < 0 ? n : j + 2;
      blank(i, end);
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== "\n") {
        if (text[j] === "\\") j++;
        j++;
      }
      blank(i + 1, Math.min(j, n));
      i = j + 1;
    } else i++;
  }
  return out.join("");
}

export interface TracepointUse {
  category: string;
  event: string;
  /** Byte offset of the first use. */
  offset: number;
}

export { splitTracepointName };

/** Tracepoints used by the program, in order of first use. `blanked` is blankCommentsAndStrings(text). */
export function findTracepointUses(blanked: string): TracepointUse[] {
  const found = new Map<string, TracepointUse>();
  const add = (category: string, event: string, offset: number): void => {
    const key = `${category}:${event}`;
    const prev = found.get(key);
    if (!prev || prev.offset > offset) found.set(key, { category, event, offset });
  };
  for (const m of blanked.matchAll(/\bTRACEPOINT_PROBE\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)/g)) add(m[1]!, m[2]!, m.index!);
  for (const m of blanked.matchAll(/\bstruct\s+tracepoint__(\w+)/g)) {
    const s = splitTracepointName(m[1]!);
    if (s) add(s.category, s.event, m.index!);
  }
  return [...found.values()].sort((a, b) => a.offset - b.offset);
}

/** Offset just past the parenthesis matching the one at `open` (in blanked text), or -1. */
export function matchParen(blanked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < blanked.length; i++) {
    const c = blanked[i];
    if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
