// BCC's key_sprintf / leaf_sprintf / key_scanf / leaf_scanf: a value as one line of text and back. Integers are
// hex ("0x2"), structs "{ a b }", arrays "[ a b ]", char arrays quoted strings; scanning fills the fields of the
// type in order, so "{ 0x1 \"comm\" }" reads back into { pid: 1, comm: "comm" }.
import { ErrorCode, TsbccError } from "../../errors.js";
import type { KeyValueCodec } from "./codec.js";

/** One line of text for a decoded key or value. */
export function sprintfValue(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "number") {
    if (typeof v === "number" && !Number.isInteger(v)) return String(v);
    const big = BigInt(v);
    return big < 0n ? `-0x${(-big).toString(16)}` : `0x${big.toString(16)}`;
  }
  if (typeof v === "boolean") return v ? "0x1" : "0x0";
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Uint8Array) return `[ ${[...v].map((b) => `0x${b.toString(16)}`).join(" ")} ]`;
  if (Array.isArray(v)) return `[ ${v.map(sprintfValue).join(" ")} ]`;
  if (v && typeof v === "object") return `{ ${Object.values(v).map(sprintfValue).join(" ")} }`;
  return String(v);
}

type Token = { kind: "open" | "close"; text: string } | { kind: "atom"; text: string } | { kind: "string"; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([{[])|([}\]])|("(?:[^"\\]|\\.)*")|([^\s{}[\]"]+))/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) && m[0] !== "") {
    end = re.lastIndex;
    if (m[1]) tokens.push({ kind: "open", text: m[1] });
    else if (m[2]) tokens.push({ kind: "close", text: m[2] });
    else if (m[3]) tokens.push({ kind: "string", text: JSON.parse(m[3]) as string });
    else tokens.push({ kind: "atom", text: m[4]! });
  }
  if (text.slice(end).trim() !== "") throw new TsbccError(ErrorCode.BAD_ARGUMENT, `cannot read ${JSON.stringify(text)}`);
  return tokens;
}

/** Reads tokens into the shape of `template` (a decoded zero value of the type). */
function fill(template: unknown, tokens: Token[], at: { i: number }, text: string): unknown {
  const bad = (why: string): never => {
    throw new TsbccError(ErrorCode.BAD_ARGUMENT, `cannot read ${JSON.stringify(text)}: ${why}`);
  };
  const t = tokens[at.i++] ?? bad("ends too early");
  if (Array.isArray(template) || template instanceof Uint8Array || (template && typeof template === "object")) {
    if (t.kind !== "open") bad(`expected "{" or "[", got ${JSON.stringify(t.text)}`);
    const fields = template instanceof Uint8Array ? [...template] : Array.isArray(template) ? template : Object.values(template as object);
    const values = fields.map((f) => fill(f, tokens, at, text));
    if (tokens[at.i++]?.kind !== "close") bad("too many elements");
    if (template instanceof Uint8Array) return Uint8Array.from(values as number[]);
    if (Array.isArray(template)) return values;
    return Object.fromEntries(Object.keys(template as object).map((k, i) => [k, values[i]]));
  }
  if (typeof template === "string") return t.kind === "string" ? t.text : bad(`expected a quoted string, got ${t.text}`);
  if (t.kind !== "atom") bad(`expected a number, got ${JSON.stringify(t.text)}`);
  const neg = t.text.startsWith("-");
  let n: bigint;
  try {
    n = BigInt(neg ? t.text.slice(1) : t.text);
  } catch {
    return bad(`${JSON.stringify(t.text)} is not an integer`);
  }
  if (neg) n = -n;
  if (typeof template === "boolean") return n !== 0n;
  return typeof template === "bigint" ? n : Number(n);
}

/** Parses `text` (as sprintfValue writes it) into a value of the codec's type. */
export function scanfValue<T>(codec: KeyValueCodec<T>, text: string): T {
  const template = codec.decode(new Uint8Array(codec.size), 0);
  const tokens = tokenize(text);
  const at = { i: 0 };
  const v = fill(template, tokens, at, text);
  if (at.i !== tokens.length) throw new TsbccError(ErrorCode.BAD_ARGUMENT, `cannot read ${JSON.stringify(text)}: text after the value`);
  return v as T;
}
