// USDT argument specs (x86-64): each `.note.stapsdt` probe lists its arguments as `[-]size@operand` with the
// operand in AT&T syntax, exactly as the compiler placed the value at the probe site: a register (or a 32/16/8-bit
// part of one), an immediate, memory at `off(%base,%index,scale)`, or a global (`sym+off(%rip)`, `sym`).
// A negative size means signed. Parsed here into a small model that the dialect turns into C.
import { ErrorCode, TsbccError } from "../errors.js";

/** How to read one register out of the kernel's x86-64 `struct pt_regs`. */
export interface RegisterRef {
  /** Field of struct pt_regs ("ax", "r8", "ip"). */
  field: string;
  /** Bit shift for the high-byte registers (%ah, %bh, %ch, %dh). */
  shift: number;
  /** Operand width in bytes (informational: the argument size decides what is kept). */
  width: number;
}

export type UsdtArgLocation =
  | { kind: "const"; value: bigint }
  | { kind: "reg"; reg: RegisterRef }
  | { kind: "mem"; base?: RegisterRef; index?: RegisterRef; scale: number; offset: bigint }
  /** A global: `symbol` + `offset`, at link-time address `address` once resolved (rip-relative or absolute). */
  | { kind: "global"; symbol: string; offset: bigint; address?: bigint };

export interface UsdtArg {
  /** 1, 2, 4 or 8 bytes. */
  size: number;
  signed: boolean;
  location: UsdtArgLocation;
  /** The spec as written in the note ("-4@-20(%rbp)"). */
  text: string;
}

const GPR64 = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"];
const FIELD: Record<string, string> = { rax: "ax", rbx: "bx", rcx: "cx", rdx: "dx", rsi: "si", rdi: "di", rbp: "bp", rsp: "sp" };

function registerTable(): Map<string, RegisterRef> {
  const t = new Map<string, RegisterRef>();
  for (const r of GPR64) {
    const f = FIELD[r]!;
    const x = r.slice(1); // "ax", "si", "bp"
    t.set(r, { field: f, shift: 0, width: 8 });
    t.set(`e${x}`, { field: f, shift: 0, width: 4 });
    t.set(x, { field: f, shift: 0, width: 2 });
    // Low bytes: %al %bl %cl %dl, %sil %dil %bpl %spl; high bytes: %ah %bh %ch %dh.
    if (x.endsWith("x")) {
      t.set(`${x[0]}l`, { field: f, shift: 0, width: 1 });
      t.set(`${x[0]}h`, { field: f, shift: 8, width: 1 });
    } else t.set(`${x}l`, { field: f, shift: 0, width: 1 });
  }
  for (let i = 8; i <= 15; i++) {
    t.set(`r${i}`, { field: `r${i}`, shift: 0, width: 8 });
    t.set(`r${i}d`, { field: `r${i}`, shift: 0, width: 4 });
    t.set(`r${i}w`, { field: `r${i}`, shift: 0, width: 2 });
    t.set(`r${i}b`, { field: `r${i}`, shift: 0, width: 1 });
    t.set(`r${i}l`, { field: `r${i}`, shift: 0, width: 1 });
  }
  t.set("rip", { field: "ip", shift: 0, width: 8 });
  return t;
}
const REGISTERS = registerTable();

function bad(spec: string, why: string): TsbccError {
  return new TsbccError(ErrorCode.BAD_ELF, `USDT argument "${spec}": ${why}`);
}

function register(name: string, spec: string): RegisterRef {
  const r = REGISTERS.get(name.replace(/^%/, "").toLowerCase());
  if (!r) throw bad(spec, `unknown x86-64 register ${name}`);
  return r;
}

function integer(text: string, spec: string): bigint {
  const t = text.trim();
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(t);
  if (!m) throw bad(spec, `"${text}" is not an integer`);
  const v = BigInt(m[2]!);
  return m[1] === "-" ? -v : v;
}

/** `sym`, `sym+off`, `sym-off`, `off` -> symbol (may be "") and offset. */
function displacement(text: string, spec: string): { symbol: string; offset: bigint } {
  const t = text.trim();
  if (t === "") return { symbol: "", offset: 0n };
  const m = /^([A-Za-z_.$][\w.$@]*)?\s*(?:([+-])\s*(0x[0-9a-f]+|\d+))?$/i.exec(t);
  if (m && m[1]) return { symbol: m[1], offset: m[2] ? integer(`${m[2]}${m[3]}`, spec) : 0n };
  return { symbol: "", offset: integer(t, spec) };
}

function operand(op: string, spec: string): UsdtArgLocation {
  if (op.startsWith("$")) return { kind: "const", value: integer(op.slice(1), spec) };
  if (op.startsWith("%")) {
    const r = register(op, spec);
    if (r.field === "ip") throw bad(spec, "%rip is only meaningful as a memory base");
    return { kind: "reg", reg: r };
  }
  const paren = op.indexOf("(");
  if (paren < 0) {
    // A bare symbol (absolute address of a global in non-PIC code) or a bare number (absolute address).
    const d = displacement(op, spec);
    if (d.symbol) return { kind: "global", symbol: d.symbol, offset: d.offset };
    return { kind: "global", symbol: "", offset: 0n, address: d.offset };
  }
  if (!op.endsWith(")")) throw bad(spec, `unbalanced parentheses in "${op}"`);
  const disp = displacement(op.slice(0, paren), spec);
  const inner = op.slice(paren + 1, -1).split(",").map((s) => s.trim());
  if (inner.length > 3) throw bad(spec, `too many parts in "(${inner.join(",")})"`);
  const base = inner[0] ? register(inner[0], spec) : undefined;
  if (base?.field === "ip") {
    if (inner.length > 1) throw bad(spec, "%rip-relative operands take no index");
    if (!disp.symbol) throw bad(spec, "a %rip-relative operand without a symbol depends on the instruction length; not supported");
    return { kind: "global", symbol: disp.symbol, offset: disp.offset };
  }
  if (disp.symbol) throw bad(spec, `symbolic displacement "${disp.symbol}" with a register base is not supported`);
  const index = inner[1] ? register(inner[1], spec) : undefined;
  const scale = inner[2] ? Number(integer(inner[2], spec)) : 1;
  if (![1, 2, 4, 8].includes(scale)) throw bad(spec, `scale ${scale} is not 1, 2, 4 or 8`);
  if (base && base.width !== 8) throw bad(spec, `base register ${inner[0]} is not a 64-bit register`);
  return { kind: "mem", base, index, scale, offset: disp.offset };
}

/** Parses one argument spec (`-4@%esi`, `8@-24(%rbp)`, `4@$42`, `8@buf+16(%rip)`). */
export function parseUsdtArg(spec: string): UsdtArg {
  const text = spec.trim();
  const at = text.indexOf("@");
  let size = 8;
  let signed = false;
  let op = text;
  if (at >= 0) {
    const n = Number(text.slice(0, at));
    if (!Number.isInteger(n) || ![1, 2, 4, 8].includes(Math.abs(n))) throw bad(text, `size "${text.slice(0, at)}" is not ±1, ±2, ±4 or ±8`);
    size = Math.abs(n);
    signed = n < 0;
    op = text.slice(at + 1);
  }
  if (!op) throw bad(text, "empty operand");
  return { size, signed, location: operand(op, text), text };
}

/**
 * Splits a note's argument string into specs. Arguments are separated by spaces, but a memory operand may
 * itself contain spaces after commas ("8@(%rax, %rbx, 8)" in some compilers' output): those are rejoined.
 */
export function splitUsdtArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of args.trim()) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (!/\s/.test(ch)) cur += ch;
    else if (depth === 0) {
      if (cur) out.push(cur);
      cur = "";
    }
  }
  if (cur) out.push(cur);
  return out;
}

export function parseUsdtArgs(args: string): UsdtArg[] {
  return splitUsdtArgs(args).map(parseUsdtArg);
}

/** BCC-style description of an argument ("4 signed bytes @ *(rbp - 8)"), for listings. */
export function describeUsdtArg(a: UsdtArg): string {
  const head = `${a.size} ${a.signed ? "signed" : "unsigned"} bytes @ `;
  const l = a.location;
  const reg = (r: RegisterRef): string => (r.shift ? `(${r.field} >> ${r.shift})` : r.field);
  switch (l.kind) {
    case "const": return `${head}constant ${l.value}`;
    case "reg": return `${head}${reg(l.reg)}`;
    case "global": return `${head}*(${l.symbol || `0x${(l.address ?? 0n).toString(16)}`}${l.offset ? ` + ${l.offset}` : ""})`;
    case "mem": {
      const parts = [l.base ? reg(l.base) : "", l.index ? `${reg(l.index)} * ${l.scale}` : ""].filter(Boolean);
      const off = l.offset ? ` ${l.offset < 0n ? "-" : "+"} ${l.offset < 0n ? -l.offset : l.offset}` : "";
      return `${head}*(${parts.join(" + ") || "0"}${off})`;
    }
  }
}
