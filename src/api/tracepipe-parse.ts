// Parsing of trace_pipe lines into BCC's trace_fields tuple, and Python-style positional
// formatting for trace_print(fmt). Pure: no file access here.
//
// A trace_pipe line looks like
//   `         python3-14087   [001] ...21   787.871228: bpf_trace_printk: hello count=12345`
// i.e. the task name right-aligned in 16 columns, `-`, then pid, [cpu], flags and timestamp
// separated by blanks up to the first `:`, then the event name (or a symbol/address) and `: `,
// then the message. The slicing below follows BCC's byte offsets, so it works on the bytes
// (a task name may contain multi-byte UTF-8).

import { ErrorCode, TsbccError } from "../errors.js";
import { pyFloatStr } from "./pyfloat.js";

export interface TraceFields {
  task: string;
  pid: number;
  cpu: number;
  flags: string;
  /** Seconds since boot (trace clock), as a float. */
  ts: number;
  msg: string;
}

/** What BCC returns when a line has the right shape but its numbers do not convert. */
export const UNKNOWN_TRACE_FIELDS: Readonly<TraceFields> = Object.freeze({
  task: "Unknown",
  pid: 0,
  cpu: 0,
  flags: "Unknown",
  ts: 0,
  msg: "Unknown",
});

const COLON = 0x3a;

// Python bytes methods treat exactly these as whitespace.
function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

// Python slice bounds: negative indices count from the end, everything is clamped.
function pySlice(b: Buffer, start: number, end?: number): Buffer {
  const norm = (i: number): number => (i < 0 ? Math.max(0, b.length + i) : Math.min(i, b.length));
  const s = norm(start);
  const e = end === undefined ? b.length : norm(end);
  return b.subarray(s, Math.max(s, e));
}

function splitWhitespace(b: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    while (i < b.length && isAsciiSpace(b[i]!)) i++;
    const start = i;
    while (i < b.length && !isAsciiSpace(b[i]!)) i++;
    if (i > start) parts.push(b.subarray(start, i));
  }
  return parts;
}

function lstrip(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length && isAsciiSpace(b[i]!)) i++;
  return b.subarray(i);
}

/** Python's bytes.rstrip(): drop trailing ASCII whitespace (newline included). */
export function rstripLine(b: Uint8Array): Uint8Array {
  let e = b.length;
  while (e > 0 && isAsciiSpace(b[e - 1]!)) e--;
  return b.subarray(0, e);
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

// Python int(): optional sign, ASCII digits with single underscores between them, blanks around.
const PY_INT = /^\s*[+-]?\d(?:_?\d)*\s*$/;
const DIGITS = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(
  String.raw`^\s*[+-]?(?:(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?|inf(?:inity)?|nan)\s*$`,
  "i",
);

function pyInt(s: string): number | undefined {
  if (!PY_INT.test(s)) return undefined;
  return Number(s.replace(/_/g, "").trim());
}

function pyFloat(s: string): number | undefined {
  if (!PY_FLOAT.test(s)) return undefined;
  const t = s.replace(/_/g, "").trim().toLowerCase();
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  return Number(t);
}

/**
 * Parse one trace_pipe line (trailing whitespace is ignored, as BCC rstrips each line).
 * Returns null for lines BCC skips: `CPU:` lost-event notices and lines whose header does not
 * split into exactly pid, [cpu], flags and timestamp. A line of that shape whose numbers do not
 * convert yields UNKNOWN_TRACE_FIELDS (a copy).
 */
export function parseTraceLine(line: string | Uint8Array): TraceFields | null {
  const raw = typeof line === "string" ? new TextEncoder().encode(line) : line;
  let rest = asBuffer(rstripLine(raw));
  if (rest.subarray(0, 4).toString("latin1") === "CPU:") return null;
  const task = lstrip(pySlice(rest, 0, 16));
  rest = pySlice(rest, 17); // skip the `-` between task and pid
  const tsEnd = rest.indexOf(COLON);
  const header = splitWhitespace(pySlice(rest, 0, tsEnd));
  if (header.length !== 4) return null;
  const [pidText, cpuField, flags, tsText] = header as [Buffer, Buffer, Buffer, Buffer];
  const cpuText = pySlice(cpuField, 1, -1); // strip the brackets of `[001]`
  rest = pySlice(rest, tsEnd + 1);
  const symEnd = rest.indexOf(COLON);
  const msg = pySlice(rest, symEnd + 2); // skip `: ` after the event name or symbol
  const pid = pyInt(pidText.toString("latin1"));
  const cpu = pyInt(cpuText.toString("latin1"));
  const ts = pyFloat(tsText.toString("latin1"));
  if (pid === undefined || cpu === undefined || ts === undefined) return { ...UNKNOWN_TRACE_FIELDS };
  return { task: task.toString("utf8"), pid, cpu, flags: flags.toString("utf8"), ts, msg: msg.toString("utf8") };
}

/** The fields in BCC's tuple order (task, pid, cpu, flags, ts, msg), for `{0}`..`{5}` formats. */
export function traceFieldsTuple(f: TraceFields): [string, number, number, string, number, string] {
  return [f.task, f.pid, f.cpu, f.flags, f.ts, f.msg];
}

// ---------------------------------------------------------------------------------------------
// Python str.format for positional fields


type FormatArg = string | number | bigint | boolean;

// The subset of the format-spec mini-language that trace formats use:
// [[fill]align][sign][0][width][,|_][.precision][type]
const SPEC = /^(?:(.)?([<>^=]))?([+\- ])?(0)?(\d+)?([,_])?(?:\.(\d+))?([sdfFeEgGxXob%n])?$/su;

function applySpec(value: FormatArg, spec: string, isFloat: boolean): string {
  const m = SPEC.exec(spec);
  if (!m) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `unsupported format spec ${JSON.stringify(spec)}`);
  const [, fillCh, alignCh, sign, zero, widthText, group, precText, type] = m;
  const numeric = typeof value === "number" || typeof value === "bigint";
  let body: string;
  if (!numeric || type === "s") {
    if (numeric && type === "s") throw new TsbccError(ErrorCode.BAD_ARGUMENT, `format code 's' is not valid for a number`);
    body = typeof value === "boolean" ? (value ? "True" : "False") : String(value);
    if (precText !== undefined) body = [...body].slice(0, Number(precText)).join("");
  } else {
    const n = value;
    const neg = typeof n === "bigint" ? n < 0n : n < 0 || Object.is(n, -0);
    const abs = typeof n === "bigint" ? (n < 0n ? -n : n) : Math.abs(n);
    const prec = precText === undefined ? undefined : Number(precText);
    const t = type ?? (isFloat && prec !== undefined ? "g" : "");
    let digits: string;
    switch (t) {
      case "d":
      case "n":
        if (isFloat) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `format code 'd' is not valid for a float`);
        digits = String(abs);
        break;
      case "x": case "X": case "o": case "b": {
        if (isFloat) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `format code '${t}' is not valid for a float`);
        const radix = t === "o" ? 8 : t === "b" ? 2 : 16;
        digits = BigInt(abs).toString(radix);
        if (t === "X") digits = digits.toUpperCase();
        break;
      }
      case "f": case "F": digits = Number(abs).toFixed(prec ?? 6); break;
      case "e": case "E": {
        const [mm, ee] = Number(abs).toExponential(prec ?? 6).split("e") as [string, string];
        digits = `${mm}e${ee[0]}${ee.slice(1).padStart(2, "0")}`;
        if (t === "E") digits = digits.toUpperCase();
        break;
      }
      case "%": digits = (Number(abs) * 100).toFixed(prec ?? 6) + "%"; break;
      case "g": case "G": {
        const p = prec === 0 ? 1 : (prec ?? 6);
        const x = Number(abs);
        const exp = x === 0 ? 0 : Math.floor(Math.log10(Number(x.toExponential(p - 1))));
        digits = exp < -4 || exp >= p ? x.toExponential(p - 1) : x.toFixed(Math.max(0, p - 1 - exp));
        if (digits.includes("e")) {
          let [mm, ee] = digits.split("e") as [string, string];
          if (mm.includes(".")) mm = mm.replace(/\.?0+$/, "");
          digits = `${mm}e${ee[0]}${ee.slice(1).padStart(2, "0")}`;
        } else if (digits.includes(".")) digits = digits.replace(/\.?0+$/, "");
        if (t === "G") digits = digits.toUpperCase();
        break;
      }
      default: digits = isFloat ? pyFloatStr(Number(abs)) : String(abs);
    }
    if (group) {
      const [ip, fp] = digits.split(".") as [string, string | undefined];
      digits = ip.replace(/\B(?=(\d{3})+(?!\d))/g, group) + (fp === undefined ? "" : "." + fp);
    }
    const signText = neg ? "-" : sign === "+" ? "+" : sign === " " ? " " : "";
    body = signText + digits;
    const width = widthText === undefined ? 0 : Number(widthText);
    // `=` alignment (and the `0` flag) pads between the sign and the digits.
    if ((alignCh === "=" || (zero && !alignCh)) && body.length < width) {
      return signText + (fillCh ?? (zero ? "0" : " ")).repeat(width - body.length) + digits;
    }
  }
  const width = widthText === undefined ? 0 : Number(widthText);
  const len = [...body].length;
  if (len >= width) return body;
  const fill = fillCh ?? (zero && !alignCh && !numeric ? "0" : " ");
  const pad = width - len;
  const align = alignCh ?? (numeric ? ">" : "<");
  if (align === "<") return body + fill.repeat(pad);
  if (align === "^") return fill.repeat(Math.floor(pad / 2)) + body + fill.repeat(pad - Math.floor(pad / 2));
  return fill.repeat(pad) + body;
}

/**
 * Python's `fmt.format(*args)` for positional fields: `{0}`, `{}` (automatic numbering),
 * `{1:>8}`, `{4:.3f}`, `{{`/`}}` escapes, conversions `!s`/`!r`. `floatArgs` lists the indexes
 * whose numbers are Python floats (they print as `1.0`, not `1`).
 */
export function pyFormat(fmt: string, args: readonly FormatArg[], floatArgs: ReadonlySet<number> = new Set()): string {
  let out = "";
  let auto = 0;
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i]!;
    if (ch === "}") {
      if (fmt[i + 1] !== "}") throw new TsbccError(ErrorCode.BAD_ARGUMENT, "Single '}' encountered in format string");
      out += "}";
      i += 2;
      continue;
    }
    if (ch !== "{") {
      out += ch;
      i++;
      continue;
    }
    if (fmt[i + 1] === "{") {
      out += "{";
      i += 2;
      continue;
    }
    const close = fmt.indexOf("}", i);
    if (close < 0) throw new TsbccError(ErrorCode.BAD_ARGUMENT, "Single '{' encountered in format string");
    const field = fmt.slice(i + 1, close);
    i = close + 1;
    const m = /^(\d*)(?:!([sra]))?(?::(.*))?$/s.exec(field);
    if (!m) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `unsupported replacement field {${field}}`);
    const index = m[1] === "" ? auto++ : Number(m[1]);
    if (index >= args.length) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `Replacement index ${index} out of range for positional args tuple`);
    const arg = args[index]!;
    const isFloat = floatArgs.has(index) && typeof arg === "number";
    let value: FormatArg = arg;
    if (m[2] === "r" || m[2] === "a") value = typeof arg === "string" ? reprSimple(arg) : String(arg);
    if (m[2] === "s") value = isFloat ? pyFloatStr(arg as number) : String(arg);
    if (m[2] !== undefined) {
      out += applySpec(value, m[3] ?? "", false);
      continue;
    }
    out += applySpec(value, m[3] ?? "", isFloat);
  }
  return out;
}

// Python repr of a str for `!r`; control characters other than \t \n \r become \xNN.
function reprSimple(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else out += ch;
  }
  return q + out + q;
}

/** `fmt.format(*fields)` as BCC's trace_print does, e.g. "pid {1}, msg = {5}". */
export function formatTraceFields(fmt: string, f: TraceFields): string {
  return pyFormat(fmt, traceFieldsTuple(f), new Set([4]));
}
