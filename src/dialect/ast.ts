// Reading clang's JSON AST (`-Xclang -ast-dump=json`).
//
// clang's JSON dumper elides a location's "file" and "line" when they equal those of the location printed just
// before it, so a location is only meaningful after a walk in print order. `normalizeLocations` does that walk
// once (JSON.parse keeps key order, which is print order) and fills every bare location in place.
// Locations inside macro expansions come as {spellingLoc, expansionLoc}; `fileOffset` reduces them to an offset
// in the file where the text can be edited, the way clang's SourceManager::getFileLoc does: a macro argument
// is edited where it is spelled, anything else at the expansion site.

export interface BareLoc {
  offset?: number;
  file?: string;
  line?: number;
  col?: number;
  tokLen?: number;
  includedFrom?: { file: string };
  isMacroArgExpansion?: boolean;
}

export interface Loc extends BareLoc {
  spellingLoc?: BareLoc;
  expansionLoc?: BareLoc;
}

export interface AstNode {
  id: string;
  kind: string;
  loc?: Loc;
  range?: { begin: Loc; end: Loc };
  name?: string;
  type?: { qualType: string; desugaredQualType?: string; typeAliasDeclId?: string };
  valueCategory?: string;
  castKind?: string;
  opcode?: string;
  isArrow?: boolean;
  isPostfix?: boolean;
  storageClass?: string;
  value?: string;
  referencedDecl?: { id: string; kind: string; name?: string; type?: { qualType: string } };
  referencedMemberDecl?: string;
  isImplicit?: boolean;
  isUsed?: boolean;
  init?: string;
  inner?: AstNode[];
  [key: string]: unknown;
}

/** Fills elided "file"/"line" of every bare location, in print order (starting from the given state). */
export function normalizeLocations(root: AstNode, start: { file?: string; line?: number } = {}): void {
  let file: string | undefined = start.file;
  let line: number | undefined = start.line;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (typeof o.offset === "number" && typeof o.col === "number") {
      if (typeof o.file === "string") file = o.file;
      else o.file = file;
      if (typeof o.line === "number") line = o.line;
      else o.line = line;
      if (o.includedFrom !== undefined) visit(o.includedFrom);
      return;
    }
    for (const key of Object.keys(o)) {
      const x = o[key];
      if (x !== null && typeof x === "object") visit(x);
    }
  };
  visit(root);
}

/** The location where text can be edited (macro arguments at their spelling, the rest at the expansion). */
export function fileLoc(loc: Loc | undefined): BareLoc | undefined {
  if (!loc) return undefined;
  if (loc.spellingLoc || loc.expansionLoc) {
    if (loc.expansionLoc?.isMacroArgExpansion && loc.spellingLoc) return loc.spellingLoc;
    return loc.expansionLoc ?? loc.spellingLoc;
  }
  return loc;
}

/** The expansion location (where a macro was invoked, or the location itself). */
export function expansionLoc(loc: Loc | undefined): BareLoc | undefined {
  if (!loc) return undefined;
  return loc.expansionLoc ?? loc;
}

/** True when the location (or its spelling) comes from inside a macro body rather than from user text. */
export function inMacroBody(loc: Loc | undefined): boolean {
  if (!loc) return false;
  return !!(loc.spellingLoc || loc.expansionLoc) && !loc.expansionLoc?.isMacroArgExpansion;
}

export interface TextRange {
  begin: number;
  end: number; // exclusive
}

/**
 * The node's text range in `file` (byte offsets, end exclusive), or undefined when the node is not spelled as one
 * contiguous piece of that file (e.g. its end comes from a macro body).
 */
export function nodeRange(node: AstNode, file: string): TextRange | undefined {
  const r = node.range;
  if (!r) return undefined;
  const b = fileLoc(r.begin);
  const e = fileLoc(r.end);
  if (!b || !e || b.offset === undefined || e.offset === undefined) return undefined;
  if (b.file !== file || e.file !== file) return undefined;
  // A range that starts in a macro body and ends in an argument (or the reverse) is not one piece of text.
  if (inMacroBody(r.begin) !== inMacroBody(r.end)) return undefined;
  if (inMacroBody(r.begin)) return undefined;
  return { begin: b.offset, end: e.offset + (e.tokLen ?? 0) };
}

/**
 * Like nodeRange, but a begin or end inside a macro body is widened to the whole macro invocation (found by
 * matching parentheses in `blanked`, the user text with comments and strings blanked). Only correct for nodes
 * that are delimited in the user's text, such as call arguments.
 */
export function argRange(node: AstNode, file: string, blanked: string, beginInBody = true): TextRange | undefined {
  const strict = nodeRange(node, file);
  if (strict) return strict;
  const r = node.range;
  if (!r) return undefined;
  if (!beginInBody && inMacroBody(r.begin)) return undefined;
  const b = inMacroBody(r.begin) ? expansionLoc(r.begin) : fileLoc(r.begin);
  const e = fileLoc(r.end);
  if (!b || !e || b.file !== file || b.offset === undefined || e.offset === undefined) return undefined;
  let end: number;
  if (inMacroBody(r.end)) {
    const x = expansionLoc(r.end);
    if (!x || x.file !== file || x.offset === undefined) return undefined;
    end = invocationEnd(blanked, x.offset);
  } else {
    if (e.file !== file) return undefined;
    end = e.offset + (e.tokLen ?? 0);
  }
  return end > b.offset ? { begin: b.offset, end } : undefined;
}

/** End of the macro invocation whose name starts at `at`: past the matching `)`, or past the name. */
export function invocationEnd(blanked: string, at: number): number {
  const id = /^[A-Za-z_]\w*/.exec(blanked.slice(at, at + 256));
  let i = at + (id ? id[0].length : 1);
  const rest = /^\s*\(/.exec(blanked.slice(i, i + 256));
  if (!rest) return i;
  i += rest[0].length - 1;
  let depth = 0;
  for (; i < blanked.length; i++) {
    const c = blanked[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return i;
}

/** The offset in `file` where the node's expansion starts (for insertions before a declaration). */
export function expansionBegin(node: AstNode, file: string): number | undefined {
  const b = expansionLoc(node.range?.begin);
  if (!b || b.file !== file || b.offset === undefined) return undefined;
  return b.offset;
}

/** The file a top-level declaration belongs to (its expansion location's file). */
export function declFile(node: AstNode): string | undefined {
  return expansionLoc(node.range?.begin)?.file ?? expansionLoc(node.loc)?.file;
}

export function children(node: AstNode): AstNode[] {
  return node.inner ?? [];
}

/** Skips parentheses and the given implicit/explicit casts. */
export function ignoreParensCasts(node: AstNode): AstNode {
  let n = node;
  for (;;) {
    if ((n.kind === "ParenExpr" || n.kind === "ImplicitCastExpr" || n.kind === "CStyleCastExpr") && n.inner?.length) {
      n = n.inner[0]!;
      continue;
    }
    return n;
  }
}

export function ignoreParens(node: AstNode): AstNode {
  let n = node;
  while (n.kind === "ParenExpr" && n.inner?.length) n = n.inner[0]!;
  return n;
}

/** Depth-first visit (pre-order); return false from `fn` to skip a node's children. */
export function walk(node: AstNode, fn: (n: AstNode, parent: AstNode | undefined) => boolean | void, parent?: AstNode): void {
  if (fn(node, parent) === false) return;
  for (const c of node.inner ?? []) walk(c, fn, node);
}

/** The type text clang printed for an expression or declaration. */
export function qualType(node: AstNode): string {
  return node.type?.qualType ?? "";
}

/** True for a pointer type text such as `struct sock *` or `char *const`. */
export function isPointerType(t: string): boolean {
  return /\*\s*(const|volatile|restrict|\s)*$/.test(t);
}

/** Decodes a StringLiteral's "value" (C escapes) to bytes as a JS string (one char per byte). */
export function stringLiteralValue(lit: string): string | undefined {
  const m = /^(?:u8|u|U|L)?"([\s\S]*)"$/.exec(lit);
  if (!m) return undefined;
  const s = m[1]!;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = s[++i]!;
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", a: "\x07", b: "\b", f: "\f", v: "\v", "?": "?" };
    if (d === "x") {
      const hm = /^[0-9a-fA-F]+/.exec(s.slice(i + 1))!;
      out += String.fromCharCode(parseInt(hm[0], 16) & 0xff);
      i += hm[0].length;
    } else if (/[0-7]/.test(d)) {
      const om = /^[0-7]{1,3}/.exec(s.slice(i))!;
      out += String.fromCharCode(parseInt(om[0], 8) & 0xff);
      i += om[0].length - 1;
    } else out += simple[d] ?? d;
  }
  return out;
}

/**
 * Parses only the declarations of `mainFile` out of a translation unit's JSON dump, without parsing the rest:
 * with real kernel headers the dump is ~240 MB. clang pretty-prints with two-space indentation, so the TU's
 * declarations are exactly the objects whose braces stand alone at four spaces. A declaration is parsed when it
 * names the file or inherits it (elided "file" continues the previous location's), and its locations are
 * normalized from the state the skipped text left.
 */
export function parseMainFileDecls(dump: Buffer, mainFile: string): AstNode {
  // Needles are strings (Buffer.indexOf encodes them as UTF-8).
  const open = "\n    {\n";
  const close = "\n    }";
  const fileKey = '"file": "';
  const lineKey = '"line": ';
  const mainKey = `"file": ${JSON.stringify(mainFile)}`;
  const inner: AstNode[] = [];
  let file: string | undefined;
  let line: number | undefined;
  let pos = dump.indexOf(open);
  while (pos >= 0) {
    const begin = pos + 1;
    const endAt = dump.indexOf(close, begin);
    if (endAt < 0) break;
    const end = endAt + close.length;
    const decl = dump.subarray(begin, end); // every search stays inside the declaration (the dump is huge)
    const named = decl.indexOf(mainKey) >= 0;
    if (named || file === mainFile) {
      const node = JSON.parse(dump.toString("utf8", begin, end)) as AstNode;
      normalizeLocations(node, { file, line });
      inner.push(node);
    }
    // The dumper's state after this declaration: its last printed file (not an includedFrom) and line.
    let f = decl.lastIndexOf(fileKey);
    while (f >= 0 && /"includedFrom": \{\s*$/.test(decl.toString("latin1", Math.max(0, f - 40), f))) f = f > 0 ? decl.lastIndexOf(fileKey, f - 1) : -1;
    if (f >= 0) {
      const q = decl.indexOf(0x22, f + fileKey.length);
      file = JSON.parse(decl.toString("utf8", f + fileKey.length - 1, q + 1)) as string;
    }
    const l = decl.lastIndexOf(lineKey);
    if (l >= 0) line = parseInt(decl.toString("latin1", l + lineKey.length, l + lineKey.length + 12), 10);
    pos = dump.indexOf(open, end);
  }
  return { id: "tu", kind: "TranslationUnitDecl", inner };
}

/** Start of the postfix expression (`f(x)->a.b[i]`) that ends at `end` in blanked text. */
export function postfixChainStart(blanked: string, end: number): number {
  let i = end;
  const skipSpace = (): void => {
    while (i > 0 && /\s/.test(blanked[i - 1]!)) i--;
  };
  for (;;) {
    skipSpace();
    const c = blanked[i - 1];
    if (c === ")" || c === "]") {
      const open = c === ")" ? "(" : "[";
      let depth = 0;
      for (i--; i >= 0; i--) {
        if (blanked[i] === c) depth++;
        else if (blanked[i] === open && --depth === 0) break;
      }
      if (i < 0) return end;
      continue;
    }
    if (c && /\w/.test(c)) {
      while (i > 0 && /\w/.test(blanked[i - 1]!)) i--;
      const save = i;
      skipSpace();
      if (blanked.slice(i - 2, i) === "->") i -= 2;
      else if (blanked[i - 1] === "." ) i -= 1;
      else return save;
      continue;
    }
    return i;
  }
}
