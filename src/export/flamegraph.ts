// Flame graphs written in-process: folded stacks ("root;child;leaf 42" per line, the form stackcount/profile/offcputime
// print with -f) -> a self-contained interactive SVG (hover details, search, click to zoom, reset; the script is in
// flamegraph-script.ts). Frames are coloured by kind: kernel (`_[k]` suffix), JavaScript (V8 perf-map names such as
// "JS:*fn file.js:1", "LazyCompile:", "Function:", or a `.js:` location), and native code.
import { writeFileSync } from "node:fs";
import { ArgumentError } from "../errors.js";
import { FLAME_CSS, FLAME_SCRIPT } from "./flamegraph-script.js";

export type FrameKind = "kernel" | "js" | "native" | "root";
/** A stack root first (outermost caller first), and how many samples ended in it. */
export type FoldedStack = readonly [readonly string[], number | bigint];

const JS_PREFIX = /^(JS|LazyCompile|Function|InterpretedFunction|Script|Eval|Baseline|Maglev|Turbofan|Sparkplug):/;
const JS_LOCATION = /\.(m|c)?[jt]s(x)?:\d/;

/** The kind a frame name shows: kernel, JavaScript (V8's perf map names) or native. */
export function frameKind(name: string): FrameKind {
  if (name.endsWith("_[k]")) return "kernel";
  if (name.endsWith("_[j]") || JS_PREFIX.test(name) || JS_LOCATION.test(name)) return "js";
  return "native";
}

export interface StackParts {
  /** The process name, as the outermost frame (BCC's folded output starts with it). */
  comm?: string;
  /** User frames, innermost first (as a stack walk yields them). */
  user?: readonly string[];
  /** Kernel frames, innermost first; they sit above the user frames (the kernel runs on the task's behalf). */
  kernel?: readonly string[];
  /** Put "-" between user and kernel frames (BCC's -d). */
  delimiter?: boolean;
  /** Suffix kernel frames with `_[k]` (default true; the SVG colours them by it). */
  annotateKernel?: boolean;
}

/** One stack in folded order (outermost first): comm, user frames, then kernel frames. */
export function foldFrames(parts: StackParts): string[] {
  if (parts === null || typeof parts !== "object") throw new ArgumentError("parts", "must be an object");
  const kernel = [...(parts.kernel ?? [])].reverse().map((f) => (parts.annotateKernel === false ? f : `${f}_[k]`));
  return [
    ...(parts.comm !== undefined ? [parts.comm] : []),
    ...[...(parts.user ?? [])].reverse(),
    ...(parts.delimiter && (parts.user?.length ?? 0) > 0 && kernel.length > 0 ? ["-"] : []),
    ...kernel,
  ];
}

/** Parses folded text; lines that do not end in a count are skipped. Equal stacks add up. */
export function parseFolded(text: string): FoldedStack[] {
  if (typeof text !== "string") throw new ArgumentError("folded", "must be a string of folded stacks");
  const sums = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const m = /^(.*\S)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0n) + BigInt(m[2]!));
  }
  return [...sums].map(([stack, n]) => [stack.split(";"), n] as const);
}

/** Folded text of `stacks`, sorted like flamegraph tools expect ("a;b;c 12" per line). */
export function formatFolded(stacks: Iterable<FoldedStack>): string {
  const sums = new Map<string, bigint>();
  for (const [frames, n] of checkStacks(stacks)) {
    const key = frames.map((f) => f.replace(/;/g, ":")).join(";");
    sums.set(key, (sums.get(key) ?? 0n) + BigInt(n));
  }
  return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${k} ${n}\n`).join("");
}

function checkStacks(stacks: Iterable<FoldedStack>): FoldedStack[] {
  if (stacks === null || typeof stacks !== "object" || !(Symbol.iterator in stacks)) {
    throw new ArgumentError("stacks", "must be an iterable of [frames, count]");
  }
  const list = [...stacks];
  for (const s of list) {
    if (!Array.isArray(s) || !Array.isArray(s[0]) || !(typeof s[1] === "number" || typeof s[1] === "bigint")) {
      throw new ArgumentError("stacks", "each stack must be [frames (string[]), count]");
    }
    if (Number(s[1]) < 0 || (typeof s[1] === "number" && !Number.isInteger(s[1]))) throw new ArgumentError("stacks", "counts must be non-negative integers");
  }
  return list;
}

interface Node {
  name: string;
  value: number;
  children: Map<string, Node>;
}

function buildTree(stacks: readonly FoldedStack[]): Node {
  const root: Node = { name: "all", value: 0, children: new Map() };
  for (const [frames, n] of stacks) {
    const count = Number(n);
    if (count === 0) continue;
    root.value += count;
    let node = root;
    for (const f of frames) {
      let c = node.children.get(f);
      if (!c) node.children.set(f, (c = { name: f, value: 0, children: new Map() }));
      c.value += count;
      node = c;
    }
  }
  return root;
}

export interface FlameGraphOptions {
  title?: string;
  subtitle?: string;
  /** Image width in pixels, default 1200. */
  width?: number;
  /** What a sample is called in the details line, default "samples". */
  countName?: string;
  /** Flame (root at the bottom, default) or icicle (root at the top). */
  inverted?: boolean;
}

const FRAME_H = 16;
const TOP = 48;
const BOTTOM = 32;
const PAD = 10;
const CHAR_W = 7;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function displayName(name: string): string {
  return name.endsWith("_[k]") || name.endsWith("_[j]") ? name.slice(0, -4) : name;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/** A stable colour per name inside the hue band of its kind. */
export function frameColor(name: string, kind: FrameKind = frameKind(name)): string {
  const v = hash(displayName(name));
  const w = hash(name + "~");
  switch (kind) {
    case "kernel": return `hsl(${28 + Math.round(10 * v)},${80 + Math.round(15 * w)}%,${55 + Math.round(8 * w)}%)`;
    case "js": return `hsl(${95 + Math.round(40 * v)},${50 + Math.round(20 * w)}%,${48 + Math.round(10 * w)}%)`;
    case "root": return "hsl(0,0%,78%)";
    default: return `hsl(${355 + Math.round(17 * v)},${70 + Math.round(15 * w)}%,${60 + Math.round(8 * w)}%)`;
  }
}

function legend(): string {
  const items: [string, FrameKind][] = [["native", "native"], ["kernel", "kernel"], ["JavaScript", "js"]];
  return items.map(([label, kind], i) =>
    `<rect x="${i * 90}" y="-9" width="10" height="10" fill="${frameColor(label, kind)}"/><text x="${i * 90 + 14}" y="0">${label}</text>`).join("");
}

/** Text that fits `px` pixels (with "..") or "" when not even two characters fit. */
export function fitText(name: string, px: number): string {
  const chars = Math.floor((px - 6) / CHAR_W);
  if (chars < 3) return "";
  return name.length <= chars ? name : name.slice(0, chars - 2) + "..";
}

/** The interactive SVG of `input` (folded text, or [frames, count] stacks). */
export function flameGraphSvg(input: string | Iterable<FoldedStack>, opts: FlameGraphOptions = {}): string {
  const stacks = typeof input === "string" ? parseFolded(input) : checkStacks(input);
  if (opts === null || typeof opts !== "object") throw new ArgumentError("options", "must be an object");
  const width = opts.width ?? 1200;
  if (!Number.isInteger(width) || width < 200 || width > 100_000) throw new ArgumentError("width", "must be an integer 200..100000");
  const root = buildTree(stacks);
  const unit = opts.countName ?? "samples";
  const inner = width - 2 * PAD;
  const scale = root.value > 0 ? inner / root.value : 0;
  const frames: string[] = [];
  let maxDepth = 0;
  const emit = (node: Node, depth: number, start: number): void => {
    const w = node.value * scale;
    if (w < 0.1) return;
    maxDepth = Math.max(maxDepth, depth);
    const kind: FrameKind = depth === 0 ? "root" : frameKind(node.name);
    const shown = depth === 0 ? "all" : displayName(node.name);
    const pct = root.value ? ((100 * node.value) / root.value).toFixed(2) : "0";
    const label = `${shown}${kind === "kernel" ? " [kernel]" : kind === "js" ? " [js]" : ""} (${node.value} ${unit}, ${pct}%)`;
    frames.push(`<g class="f" data-x="${start}" data-w="${node.value}" data-d="${depth}" data-kind="${kind}" data-name="${esc(shown)}">` +
      `<title>${esc(label)}</title><rect x="" y="" width="${w.toFixed(2)}" height="${FRAME_H - 1}" fill="${frameColor(node.name, kind)}" rx="2"/>` +
      `<text>${esc(fitText(shown, w))}</text></g>`);
    let off = start;
    const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const c of kids) {
      emit(c, depth + 1, off);
      off += c.value;
    }
  };
  emit(root, 0, 0);
  const height = TOP + (maxDepth + 1) * FRAME_H + BOTTOM;
  // x and y are placed by the script's layout() and also here, so the picture is right without script too.
  const placed = frames.map((f) => {
    const d = Number(/data-d="(\d+)"/.exec(f)![1]);
    const x = PAD + Number(/data-x="(\d+)"/.exec(f)![1]) * scale;
    const y = opts.inverted ? TOP + d * FRAME_H : height - BOTTOM - (d + 1) * FRAME_H;
    return f.replace('x="" y=""', `x="${x.toFixed(2)}" y="${y}"`).replace("<text>", `<text x="${(x + 3).toFixed(2)}" y="${y + 11.5}">`);
  });
  const title = esc(opts.title ?? "Flame Graph");
  return `<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"` +
    ` data-total="${root.value}" data-unit="${esc(unit)}" data-pad="${PAD}" data-frame-h="${FRAME_H}" data-top="${TOP}"` +
    ` data-bottom="${BOTTOM}" data-inverted="${opts.inverted ? 1 : 0}">
<style>${FLAME_CSS}</style>
<rect x="0" y="0" width="${width}" height="${height}" fill="#fafaf5"/>
<text id="title" x="${width / 2}" y="20" text-anchor="middle">${title}</text>
${opts.subtitle ? `<text id="subtitle" x="${width / 2}" y="36" text-anchor="middle">${esc(opts.subtitle)}</text>\n` : ""}` +
    `<text id="unzoom" class="button hide" x="${PAD}" y="20">Reset Zoom</text>
<text id="search" class="button" x="${width - PAD}" y="20" text-anchor="end">Search</text>
<g id="legend" transform="translate(${PAD},36)">${legend()}</g>
<text id="details" x="${PAD}" y="${height - 12}"> </text>
<text id="matched" x="${width - PAD}" y="${height - 12}" text-anchor="end"> </text>
<g id="frames">
${placed.join("\n")}
</g>
<script type="text/ecmascript"><![CDATA[${FLAME_SCRIPT}]]></script>
</svg>
`;
}

/** Writes the SVG of `input` to `file` (what `--flamegraph FILE.svg` does at exit). */
export function writeFlameGraph(file: string, input: string | Iterable<FoldedStack>, opts: FlameGraphOptions = {}): void {
  if (typeof file !== "string" || file === "") throw new ArgumentError("file", "must be a path");
  writeFileSync(file, flameGraphSvg(input, opts));
}

/** Writes folded text (what `--folded FILE` does at exit). */
export function writeFolded(file: string, stacks: Iterable<FoldedStack>): void {
  if (typeof file !== "string" || file === "") throw new ArgumentError("file", "must be a path");
  writeFileSync(file, formatFolded(stacks));
}
