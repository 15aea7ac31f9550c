// Cheap lexical scans of the user's text, done before clang sees it.
//
// Tracepoint structs must exist before the analyze run (a use of an undefined `struct tracepoint__a__b` is an
// incomplete type there), so the tracepoints a program uses are found lexically, as BCC's pass 0 does with its
// own AST walk: `TRACEPOINT_PROBE(cat, evt)` invocations and `struct tracepoint__<cat>__<evt>` spellings.
import { splitTracepointName } from "../loader/sections.js";

import type { Btf } from "../btf/btf.js";
import { findMember } from "../btf/types.js";
import { vmlinuxBtf } from "../kernel/btf.js";

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

// ---- a user's own struct that has the name of a kernel struct
// BCC programs define private copies of kernel structs (struct nameidata), usually a subset of the kernel's
// members: then the kernel's definition (complete, right for this kernel) is used. A program may also
// define a struct of its own that merely shares a kernel name (`struct sock { u32 *sk_daddr; }` in BCC's
// tests, where kernel headers did not declare struct sock): then the user's struct is kept, renamed.

/** Member names declared at the top level of a struct body (blanked text between its braces). */
export function structMemberNames(body: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let decl = "";
  const flush = (): void => {
    for (const part of splitTopLevel(decl, ",")) {
      const fn = /\(\s*\*\s*(\w+)\s*\)/.exec(part);
      const plain = part.replace(/\[[^\]]*\]/g, "").replace(/:\s*\w+\s*$/, "").match(/(\w+)\s*$/);
      const name = fn?.[1] ?? plain?.[1];
      if (name && !/^(struct|union|enum)$/.test(name)) names.push(name);
    }
    decl = "";
  };
  for (const c of body) {
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === ";" && depth === 0) flush();
    else if (depth === 0) decl += c;
    // Nested anonymous or named struct bodies contribute only their declarator (after the closing brace).
  }
  return names;
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Whether the kernel's struct or union `name` (vmlinux BTF) has all of `members` (true when the kernel has no such type). */
export function kernelStructHasMembers(name: string, members: string[], btf: Btf = vmlinuxBtf()): boolean {
  const t = btf.findByName("struct", name) ?? btf.findByName("union", name);
  if (!t) return true;
  return members.every((m) => findMember(btf, t.id, m) !== undefined);
}

/**
 * The tag a user's own struct is renamed to when it only shares its name with a kernel struct: the same
 * length (every offset and column of the user's text stays valid), one letter's case changed, not a kernel tag.
 */
export function userTag(name: string, btf: Btf = vmlinuxBtf()): string {
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    if (flipped === c) continue;
    const tag = name.slice(0, i) + flipped + name.slice(i + 1);
    if (!btf.findByName("struct", tag) && !btf.findByName("union", tag)) return tag;
  }
  return name;
}

/** `struct <name>` / `union <name>` spellings outside comments and strings renamed to `tag` (same length). */
export function renameUserTag(text: string, blanked: string, name: string, tag: string = userTag(name)): string {
  const re = new RegExp(`\\b(struct|union)(\\s+)${name}\\b`, "g");
  let out = "";
  let last = 0;
  for (const m of blanked.matchAll(re)) {
    const at = m.index! + m[1]!.length + m[2]!.length;
    out += text.slice(last, at) + tag;
    last = at + name.length;
  }
  return out + text.slice(last);
}
