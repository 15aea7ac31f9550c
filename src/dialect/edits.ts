// Text edits on the user's source with a source map back to it.
//
// Offsets are byte offsets (clang's); the text is handled as a "binary" string (one JS char per byte) so that
// clang's offsets index it directly. A replacement may embed rewritten sub-ranges of the text it replaces
// (a map call keeps its rewritten arguments), so edits form a tree by containment and are rendered recursively.
// Every output byte is recorded as copied from a user offset or generated on behalf of one, which maps clang's
// diagnostics on the rewritten text back to the user's line and column.
// A replacement never removes line breaks: when its output has fewer of them than the text it replaces, the
// missing ones are appended, so every user line keeps its line number in the rewritten text.
import { ErrorCode, TsbccError } from "../errors.js";

export interface SubText {
  readonly sub: true;
  begin: number;
  end: number;
  /** Render with line breaks turned into spaces (for a second copy of user text, e.g. inside typeof). */
  flat?: boolean;
}
export type Piece = string | SubText;
export type Sub = (begin: number, end: number, flat?: boolean) => SubText;
export type Generator = (sub: Sub) => Piece[];

interface Edit {
  begin: number;
  end: number;
  gen: Generator;
  seq: number;
  children: Edit[];
}

interface Insertion {
  at: number;
  text: string;
  seq: number;
  /** User offset the inserted text is attributed to in diagnostics (default: `at`). */
  attributeTo: number;
}

/** One run of output: `length` bytes at output offset `out`, copied from (or generated for) user offset `user`. */
export interface Segment {
  out: number;
  user: number;
  length: number;
  generated: boolean;
}

export class EditConflictError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.COMPILE, message);
  }
}

export class EditSet {
  private readonly edits: Edit[] = [];
  private readonly insertions: Insertion[] = [];
  private seq = 0;
  private readonly keys = new Set<string>();

  constructor(readonly text: string) {}

  /** Replaces [begin, end) with the generator's pieces. A second edit of the same range nests inside the first. */
  replace(begin: number, end: number, gen: Generator): void {
    if (begin < 0 || end > this.text.length || begin > end) throw new RangeError(`bad edit range ${begin}..${end}`);
    this.edits.push({ begin, end, gen, seq: this.seq++, children: [] });
  }

  /** Like replace, but a no-op when an edit with the same key was already recorded (macro arguments used twice). */
  replaceOnce(key: string, begin: number, end: number, gen: Generator): void {
    const k = `${key}:${begin}:${end}`;
    if (this.keys.has(k)) return;
    this.keys.add(k);
    this.replace(begin, end, gen);
  }

  /** Inserts text before the byte at `at`. Insertions at one offset keep their order. */
  insert(at: number, text: string, attributeTo = at): void {
    this.insertions.push({ at, text, seq: this.seq++, attributeTo });
  }

  get size(): number {
    return this.edits.length + this.insertions.length;
  }

  render(): { text: string; segments: Segment[] } {
    const roots = this.buildTree();
    const ins = [...this.insertions].sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: string[] = [];
    const segments: Segment[] = [];
    let outLen = 0;
    let flatDepth = 0;
    const emit = (s: string, user: number, generated: boolean): void => {
      if (!s.length) return;
      if (flatDepth > 0) s = s.replace(/\n/g, " ");
      const last = segments[segments.length - 1];
      if (last && last.generated === generated && last.out + last.length === outLen &&
          (generated ? last.user === user : last.user + last.length === user)) {
        last.length += s.length;
      } else segments.push({ out: outLen, user, length: s.length, generated });
      out.push(s);
      outLen += s.length;
    };
    let insIdx = 0;
    const flushInsertions = (upTo: number): void => {
      while (insIdx < ins.length && ins[insIdx]!.at <= upTo) {
        const i = ins[insIdx++]!;
        emit(i.text, i.attributeTo, true);
      }
    };
    const renderRange = (begin: number, end: number, edits: Edit[], topLevel: boolean): void => {
      let pos = begin;
      for (const e of edits) {
        if (e.begin < begin || e.end > end) continue;
        if (e.begin < pos) continue; // already covered (defensive; the tree has no overlaps)
        copy(pos, e.begin, topLevel);
        renderEdit(e);
        pos = e.end;
      }
      copy(pos, end, topLevel);
    };
    const copy = (from: number, to: number, topLevel: boolean): void => {
      if (topLevel) {
        // Insertions go between copied bytes.
        let p = from;
        while (insIdx < ins.length && ins[insIdx]!.at < to) {
          const at = Math.max(ins[insIdx]!.at, p);
          emit(this.text.slice(p, at), p, false);
          p = at;
          flushInsertions(at);
        }
        emit(this.text.slice(p, to), p, false);
      } else emit(this.text.slice(from, to), from, false);
    };
    const renderEdit = (e: Edit): void => {
      const startSegs = out.length;
      const sub: Sub = (b, en, flat) => {
        if (b < e.begin || en > e.end || b > en) throw new EditConflictError(`sub-range ${b}..${en} outside edit ${e.begin}..${e.end}`);
        return flat ? { sub: true, begin: b, end: en, flat: true } : { sub: true, begin: b, end: en };
      };
      for (const p of e.gen(sub)) {
        if (typeof p === "string") emit(p, e.begin, true);
        else {
          if (p.flat) flatDepth++;
          renderRange(p.begin, p.end, e.children.filter((c) => c.begin >= p.begin && c.end <= p.end), false);
          if (p.flat) flatDepth--;
        }
      }
      const produced = out.slice(startSegs).join("");
      const want = countNewlines(this.text, e.begin, e.end);
      const have = countNewlines(produced, 0, produced.length);
      if (have < want) emit("\n".repeat(want - have), e.end, true);
    };
    renderRange(0, this.text.length, roots, true);
    flushInsertions(Number.MAX_SAFE_INTEGER);
    return { text: out.join(""), segments };
  }

  private buildTree(): Edit[] {
    for (const e of this.edits) e.children = [];
    const sorted = [...this.edits].sort((a, b) => a.begin - b.begin || b.end - a.end || a.seq - b.seq);
    const roots: Edit[] = [];
    const stack: Edit[] = [];
    for (const e of sorted) {
      while (stack.length && stack[stack.length - 1]!.end <= e.begin && !(stack[stack.length - 1]!.begin === e.begin && stack[stack.length - 1]!.end === e.end)) {
        // A zero-length edit at the end of the top is outside it.
        stack.pop();
      }
      const top = stack[stack.length - 1];
      if (top) {
        if (e.end > top.end) throw new EditConflictError(`overlapping edits ${top.begin}..${top.end} and ${e.begin}..${e.end}`);
        top.children.push(e);
      } else roots.push(e);
      stack.push(e);
    }
    return roots;
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Maps offsets of a rendered text back to user offsets. */
export class SourceMap {
  constructor(private readonly segments: Segment[]) {}

  /** The user offset for output offset `out`, and whether that byte was generated. */
  toUser(out: number): { user: number; generated: boolean } | undefined {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found: Segment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (s.out <= out) {
        found = s;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (!found) return undefined;
    if (found.generated) return { user: found.user, generated: true };
    return { user: found.user + Math.min(out - found.out, Math.max(0, found.length - 1)), generated: false };
  }

  /** Shifts every output offset by `delta` (text was prepended to the rendered output). */
  shifted(delta: number): SourceMap {
    return new SourceMap(this.segments.map((s) => ({ ...s, out: s.out + delta })));
  }
}

/** Line starts of a text, for offset <-> (line, column) conversions (1-based lines and byte columns). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  get lineCount(): number {
    return this.starts.length;
  }
  offsetOf(line: number, col: number): number {
    const s = this.starts[Math.min(Math.max(line, 1), this.starts.length) - 1]!;
    return s + Math.max(col, 1) - 1;
  }
  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
  lineText(line: number): string {
    const s = this.starts[line - 1];
    if (s === undefined) return "";
    const e = this.starts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1).replace(/\r$/, "");
  }
}
