// Text histograms with BCC's exact layout (print_log2_hist / print_linear_hist / print_json_hist).
//
// Tools' output is compared with BCC's byte for byte, so every width, the star arithmetic
// (including its floating-point rounding) and the Python repr of section values are
// reproduced here. The format functions are pure and return the text; the print functions
// write it to a stream.

import { ErrorCode, TsbccError } from "../../errors.js";
import { pyFloatStr } from "../pyfloat.js";

/** A histogram count: kernel counters are u64, so bigint is accepted next to number. */
export type Count = number | bigint;

/**
 * A struct map key: its first field is the section ("bucket"), its second the slot
 * (a `__pad_1` member in second place is skipped). A tuple `[bucket, slot]` works too.
 */
export type HistKey = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * What a histogram is made of:
 * - an array of counts indexed by slot (any length, used as is);
 * - a Map slot → count (placed into BCC's fixed 65 log2 / 1025 linear slots);
 * - a Map or iterable of [struct key, count] entries: one histogram per section.
 */
export type HistData =
  | readonly Count[]
  | ReadonlyMap<number | bigint, Count>
  | ReadonlyMap<HistKey, Count>
  | Iterable<readonly [number | bigint | HistKey, Count]>;

export interface HistOptions {
  /** Column header, default "value". */
  valType?: string;
  /** Label of each section line `\n<sectionHeader> = <bucket>`, default "Bucket ptr". */
  sectionHeader?: string;
  /** Formats a section's bucket for its header line (printed as text, not repr). */
  sectionPrintFn?: (bucket: unknown) => unknown;
  /** Maps each key's first field to the bucket value that groups sections. */
  bucketFn?: (bucket: unknown) => unknown;
  /** Skip the zero rows before the first non-zero one. */
  stripLeadingZero?: boolean;
  /** Orders the sections (receives them in first-seen order). */
  bucketSortFn?: (buckets: unknown[]) => unknown[];
}

export interface PrintHistOptions extends HistOptions {
  /** Destination, default process.stdout. */
  out?: { write(chunk: string): unknown };
}

/** BCC's fixed slot counts for table-backed histograms: enough for any u64 in log2. */
export const LOG2_INDEX_MAX = 65;
export const LINEAR_INDEX_MAX = 1025;
const STARS_MAX = 40;

// ---------------------------------------------------------------------------------------------
// Row-level layout (BCC's module helpers _print_log2_hist / _print_linear_hist / _stars)

/**
 * The distribution bar: one `*` per 1/width of valMax, computed with the same double
 * arithmetic as BCC (`i <= width*val/valMax - 1`); a value above valMax ends in `+`.
 */
export function histStars(val: Count, valMax: Count, width: number): string {
  const q = ratio(BigInt(width) * toBig(val), toBig(valMax)) - 1;
  let text = "";
  for (let i = 0; !(i > q) && !(i > width - 1); i++) text += "*";
  if (toBig(val) > toBig(valMax)) text = text.slice(0, -1) + "+";
  return text;
}

interface Extremes {
  idxMax: number;
  valMax: bigint;
}

// idxMax: last slot with a positive count (-1 if none); valMax: largest count, at least 0.
function extremes(vals: readonly bigint[]): Extremes {
  let idxMax = -1;
  let valMax = 0n;
  vals.forEach((v, i) => {
    if (v > 0n) idxMax = i;
    if (v > valMax) valMax = v;
  });
  return { idxMax, valMax };
}

/** Log2 layout of a plain slot array (slot i counts values in [2^(i-1), 2^i - 1]). */
export function formatLog2Slots(counts: readonly Count[], valType = "value", stripLeadingZero = false): string {
  const vals = counts.map(toBig);
  const { idxMax, valMax } = extremes(vals);
  // Past slot 32 the bounds need 20 digits, so the bar shrinks to keep the line width.
  const wide = idxMax > 32;
  const bound = wide ? 20 : 10;
  const width = wide ? STARS_MAX / 2 : STARS_MAX;
  let out = "";
  if (idxMax > 0) {
    out += wide
      ? `${" ".repeat(15)}${padEnd(String(valType), 29)} : count     distribution\n`
      : `${" ".repeat(5)}${padEnd(String(valType), 19)} : count     distribution\n`;
  }
  let skipping = stripLeadingZero;
  for (let i = 1; i <= idxMax; i++) {
    let low = (1n << BigInt(i)) >> 1n;
    const high = (1n << BigInt(i)) - 1n;
    if (low === high) low -= 1n;
    const val = vals[i]!;
    if (skipping) {
      if (val === 0n) continue;
      skipping = false;
    }
    out +=
      `${String(low).padStart(bound)} -> ${padEnd(String(high), bound)} : ${padEnd(String(val), 8)} ` +
      `|${padEnd(histStars(val, valMax, width), width)}|\n`;
  }
  return out;
}

/** Linear layout of a plain slot array: one row per integer slot from 0. */
export function formatLinearSlots(counts: readonly Count[], valType = "value", stripLeadingZero = false): string {
  const vals = counts.map(toBig);
  const { idxMax, valMax } = extremes(vals);
  let out = "";
  if (idxMax >= 0) out += `${" ".repeat(5)}${padEnd(String(valType), 13)} : count     distribution\n`;
  let skipping = stripLeadingZero;
  for (let i = 0; i <= idxMax; i++) {
    const val = vals[i]!;
    if (skipping) {
      if (val === 0n) continue;
      skipping = false;
    }
    out += `${" ".repeat(8)}${padEnd(String(i), 10)} : ${padEnd(String(val), 8)} |${padEnd(histStars(val, valMax, STARS_MAX), STARS_MAX)}|\n`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Table-level entry points (BCC's Table.print_log2_hist / print_linear_hist / print_json_hist)

/** BCC's print_log2_hist text for `data`. */
export function formatLog2Hist(data: HistData, opts: HistOptions = {}): string {
  return formatTable(data, opts, LOG2_INDEX_MAX, "log2", formatLog2Slots);
}

/** BCC's print_linear_hist text for `data`. */
export function formatLinearHist(data: HistData, opts: HistOptions = {}): string {
  return formatTable(data, opts, LINEAR_INDEX_MAX, "linear", formatLinearSlots);
}

export function printLog2Hist(data: HistData, opts: PrintHistOptions = {}): void {
  (opts.out ?? process.stdout).write(formatLog2Hist(data, opts));
}

export function printLinearHist(data: HistData, opts: PrintHistOptions = {}): void {
  (opts.out ?? process.stdout).write(formatLinearHist(data, opts));
}

function formatTable(
  data: HistData,
  opts: HistOptions,
  slotCount: number,
  kind: string,
  layout: (vals: readonly Count[], valType: string, strip: boolean) => string,
): string {
  const valType = opts.valType ?? "value";
  const strip = opts.stripLeadingZero ?? false;
  const shaped = shapeData(data, slotCount, kind, opts);
  if (shaped.kind === "flat") return layout(shaped.vals, valType, strip);
  let out = "";
  for (const s of shaped.sections) {
    // BCC: "\n%s = %s" with section_print_fn(bucket), else "\n%s = %r" with the bucket itself.
    const label = opts.sectionPrintFn ? pyStr(opts.sectionPrintFn(s.bucket)) : pyRepr(s.bucket);
    out += `\n${opts.sectionHeader ?? "Bucket ptr"} = ${label}\n`;
    out += layout(s.vals, valType, strip);
  }
  return out;
}

export interface JsonHistOptions extends Omit<HistOptions, "stripLeadingZero"> {
  /** Timestamp to print (local time), default now. */
  now?: Date;
}

/**
 * BCC's print_json_hist text: one Python dict repr line per histogram (per section), e.g.
 * `{'ts': '2024-01-02 03:04:05', 'val_type': 'value', 'data': [{'interval-start': 0, ...}]}`.
 */
export function formatJsonHist(data: HistData, opts: JsonHistOptions = {}): string {
  const valType = opts.valType ?? "value";
  const ts = strftimeLocal(opts.now ?? new Date());
  const shaped = shapeData(data, LOG2_INDEX_MAX, "log2", opts);
  if (shaped.kind === "flat") return jsonHistLine(shaped.vals, valType, ts);
  let out = "";
  for (const s of shaped.sections) {
    const label = opts.sectionPrintFn ? opts.sectionPrintFn(s.bucket) : s.bucket;
    out += jsonHistLine(s.vals, valType, ts, [opts.sectionHeader ?? "Bucket ptr", label]);
  }
  return out;
}

export function printJsonHist(data: HistData, opts: JsonHistOptions & PrintHistOptions = {}): void {
  (opts.out ?? process.stdout).write(formatJsonHist(data, opts));
}

function jsonHistLine(vals: readonly bigint[], valType: string, ts: string, section?: [string, unknown]): string {
  // Unlike the text layouts, the JSON one ends at the last *non-zero* slot (negatives count).
  let last = 0;
  vals.forEach((v, i) => {
    if (v !== 0n) last = i;
  });
  const rows: string[] = [];
  let end = 1n;
  let start = 0n;
  for (let i = 1; i <= last; i++) {
    end *= 2n;
    rows.push(`{'interval-start': ${start}, 'interval-end': ${end - 1n}, 'count': ${vals[i]}}`);
    start = end;
  }
  const fields: [string, string][] = [
    ["ts", pyRepr(ts)],
    ["val_type", pyRepr(valType)],
    ["data", `[${rows.join(", ")}]`],
  ];
  if (section) {
    // A Python dict assignment replaces an existing key in place.
    const existing = fields.find(([k]) => k === section[0]);
    if (existing) existing[1] = pyRepr(section[1]);
    else fields.push([section[0], pyRepr(section[1])]);
  }
  return `{${fields.map(([k, v]) => `${pyRepr(k)}: ${v}`).join(", ")}}\n`;
}

function strftimeLocal(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---------------------------------------------------------------------------------------------
// Input shaping

type Shaped =
  | { kind: "flat"; vals: bigint[] }
  | { kind: "sections"; sections: { bucket: unknown; vals: bigint[] }[] };

function isCount(v: unknown): v is Count {
  return typeof v === "number" || typeof v === "bigint";
}

function shapeData(data: HistData, slotCount: number, kind: string, opts: HistOptions): Shaped {
  // A plain array of counts is the slot array itself (BCC's module-level helpers).
  if (Array.isArray(data) && data.every(isCount)) return { kind: "flat", vals: (data as Count[]).map(toBig) };
  const entries = [...(data as Iterable<readonly [unknown, Count]>)];
  if (entries.length === 0) return { kind: "flat", vals: [] };
  if (entries.every(([k]) => isCount(k))) {
    const vals = new Array<bigint>(slotCount).fill(0n);
    for (const [k, v] of entries) vals[slotIndex(k as Count, slotCount, kind)] = toBig(v);
    return { kind: "flat", vals };
  }
  if (entries.some(([k]) => isCount(k) || k === null || typeof k !== "object")) {
    throw new TsbccError(ErrorCode.BAD_ARGUMENT, "histogram keys must be all slot numbers or all struct keys");
  }
  // Struct keys: group by bucket in first-seen order (BCC fills a dict, which keeps insertion
  // order). BCC sizes every section with the log2 slot count, for linear histograms too.
  const groups = new Map<unknown, { bucket: unknown; vals: bigint[] }>();
  for (const [key, v] of entries) {
    const [rawBucket, slot] = splitKey(key as HistKey);
    const bucket = opts.bucketFn ? opts.bucketFn(rawBucket) : rawBucket;
    const id = bucketId(bucket);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { bucket, vals: new Array<bigint>(LOG2_INDEX_MAX).fill(0n) }));
    if (!isCount(slot)) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `histogram slot must be a number or bigint, got ${typeof slot}`);
    g.vals[slotIndex(slot, LOG2_INDEX_MAX, kind)] = toBig(v);
  }
  let buckets = [...groups.values()].map((g) => g.bucket);
  if (opts.bucketSortFn) buckets = opts.bucketSortFn(buckets);
  return {
    kind: "sections",
    sections: buckets.map((b) => {
      const g = groups.get(bucketId(b));
      if (!g) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `bucketSortFn returned an unknown bucket ${pyRepr(b)}`);
      return { bucket: b, vals: g.vals };
    }),
  };
}

function splitKey(key: HistKey): [unknown, unknown] {
  if (Array.isArray(key)) return [key[0], key[1]];
  const names = Object.keys(key);
  if (names.length < 2) throw new TsbccError(ErrorCode.BAD_ARGUMENT, "a struct histogram key needs a bucket field and a slot field");
  // The compiler may insert padding after the bucket field; the slot is then the next member.
  const slotName = names[1] === "__pad_1" && names.length > 2 ? names[2]! : names[1]!;
  const rec = key as Record<string, unknown>;
  return [rec[names[0]!], rec[slotName]];
}

function slotIndex(slot: Count, slotCount: number, kind: string): number {
  const big = toBig(slot);
  if (big < 0n || big >= BigInt(slotCount)) {
    throw new TsbccError(ErrorCode.BAD_ARGUMENT, `${kind} histogram slot ${big} is outside 0..${slotCount - 1}`);
  }
  return Number(big);
}

// Python dict identity for buckets: equal ints (1, 1n, true) and equal bytes group together.
function bucketId(v: unknown): unknown {
  if (typeof v === "bigint" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v))) {
    return `i:${BigInt(v)}`;
  }
  if (typeof v === "number") return `f:${v}`;
  if (typeof v === "string") return `s:${v}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  if (Array.isArray(v)) return `t:${JSON.stringify(v.map((x) => String(bucketId(x))))}`;
  return v ?? "n:";
}

function toBig(v: Count): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw new TsbccError(ErrorCode.BAD_ARGUMENT, `histogram counts and slots must be integers, got ${String(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Number and text helpers

/**
 * num/den as the nearest double, exactly like Python's int true division (correctly rounded),
 * so the bar length matches BCC even for counts beyond 2^53.
 */
function ratio(num: bigint, den: bigint): number {
  if (den === 0n) throw new TsbccError(ErrorCode.BAD_ARGUMENT, "histogram maximum is zero");
  if (den < 0n) return ratio(-num, -den);
  if (num < 0n) return -ratio(-num, den);
  const LIMIT = 1n << 53n;
  if (num <= LIMIT && den <= LIMIT) return Number(num) / Number(den); // both exact: one rounding
  // Scale so the integer quotient has more than 64 bits, then fold the remainder into a sticky
  // bit: Number(bigint) then rounds to nearest-even exactly as the true quotient would.
  const shift = Math.max(0, 66 + bitLength(den) - bitLength(num));
  const scaled = num << BigInt(shift);
  const q = scaled / den;
  const sticky = scaled % den === 0n ? 0n : 1n;
  let value = Number((q << 1n) | sticky);
  let exp = shift + 1;
  while (exp > 1000) {
    value /= 2 ** 1000;
    exp -= 1000;
  }
  return value / 2 ** exp;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

// Python pads by code points, not UTF-16 units.
function padEnd(s: string, width: number): string {
  const len = [...s].length;
  return len >= width ? s : s + " ".repeat(width - len);
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function reprQuote(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

function hex(cp: number, digits: number): string {
  return cp.toString(16).padStart(digits, "0");
}

function reprString(s: string): string {
  const q = reprQuote(s.includes("'"), s.includes('"'));
  let body = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === "\\") body += "\\" + ch;
    else if (ch === "\t") body += "\\t";
    else if (ch === "\n") body += "\\n";
    else if (ch === "\r") body += "\\r";
    else if (cp < 0x20 || cp === 0x7f) body += "\\x" + hex(cp, 2);
    else if (cp < 0x7f || (ch !== " " && !NON_PRINTABLE.test(ch))) body += ch;
    else if (cp <= 0xff) body += "\\x" + hex(cp, 2);
    else if (cp <= 0xffff) body += "\\u" + hex(cp, 4);
    else body += "\\U" + hex(cp, 8);
  }
  return q + body + q;
}

function reprBytes(b: Uint8Array): string {
  const q = reprQuote(b.includes(0x27), b.includes(0x22));
  const qc = q.charCodeAt(0);
  let body = "";
  for (const c of b) {
    if (c === qc || c === 0x5c) body += "\\" + String.fromCharCode(c);
    else if (c === 0x09) body += "\\t";
    else if (c === 0x0a) body += "\\n";
    else if (c === 0x0d) body += "\\r";
    else if (c >= 0x20 && c < 0x7f) body += String.fromCharCode(c);
    else body += "\\x" + hex(c, 2);
  }
  return "b" + q + body + q;
}


/**
 * Python's repr() of a JavaScript value as BCC would see it: integers plain, strings in
 * quotes, byte arrays as b'..', booleans True/False, null None, arrays as tuples.
 */
export function pyRepr(v: unknown): string {
  if (typeof v === "string") return reprString(v);
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number") return Number.isInteger(v) ? String(BigInt(v)) : pyFloatStr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null || v === undefined) return "None";
  if (v instanceof Uint8Array) return reprBytes(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${pyRepr(v[0])},)` : `(${v.map(pyRepr).join(", ")})`;
  return String(v);
}

/** Python's str(): like repr() except that strings print as they are. */
export function pyStr(v: unknown): string {
  return typeof v === "string" ? v : pyRepr(v);
}
