// Symbol -> file offset, for uprobes: the uprobe PMU takes (file, offset), and an ELF symbol's value is a virtual
// address, which the PT_LOAD segment that maps it turns into a file offset (they differ for PIE executables
// and libraries linked at another base, e.g. with -Ttext-segment). Also the function listings behind BCC's
// get_user_functions / get_user_addresses.
import { statSync, type Stats } from "node:fs";
import { ElfError, ElfFile, SHT_SYMTAB, type ElfSymbol } from "../elf/index.js";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { processExecutable, resolveBinary } from "./libraries.js";

const files = new Map<string, { mtimeMs: number; size: number; elf: ElfFile }>();

/** The parsed ELF file (cached while its mtime and size stay the same). */
export function openElf(path: string): ElfFile {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TsbccError(ErrorCode.NO_SUCH_LIBRARY, `${path}: ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
  }
  const hit = files.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.elf;
  let elf: ElfFile;
  try {
    elf = ElfFile.open(path);
  } catch (e) {
    if (e instanceof ElfError) throw new TsbccError(ErrorCode.BAD_ELF, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
  if (files.size > 32) files.clear();
  files.set(path, { mtimeMs: st.mtimeMs, size: st.size, elf });
  return elf;
}

/** A function symbol of a binary with its file offset. */
export interface UserFunction {
  name: string;
  /** Virtual address in the ELF (st_value). */
  address: bigint;
  /** File offset of the first instruction: what a uprobe is placed at. */
  offset: bigint;
  size: bigint;
}

function fileOffset(elf: ElfFile, path: string, vaddr: bigint, what: string): bigint {
  const off = elf.vaddrToFileOffset(vaddr);
  if (off === undefined) {
    throw new TsbccError(ErrorCode.NO_SUCH_SYMBOL, `${what}: address 0x${vaddr.toString(16)} is not in a loadable segment of ${path}`);
  }
  return BigInt(off);
}

/** Edit distance, bounded: names further apart than `max` return max + 1. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]!);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to `n` names close to `name` (edit distance, then shared prefix). */
export function closeNames(name: string, names: Iterable<string>, n = 3): string[] {
  const max = Math.max(2, Math.floor(name.length / 3));
  const scored: { s: string; d: number }[] = [];
  for (const s of new Set(names)) {
    const d = distance(name, s, max);
    if (d <= max || (name.length >= 4 && s.startsWith(name))) scored.push({ s, d });
  }
  return scored.sort((a, b) => a.d - b.d || a.s.length - b.s.length).slice(0, n).map((x) => x.s);
}

function usable(sym: ElfSymbol): boolean {
  return sym.value !== 0n && sym.name !== "";
}

/** Defined function symbols of `path` (from .symtab and .dynsym), with file offsets. */
export function userFunctions(path: string): UserFunction[] {
  const elf = openElf(path);
  const out: UserFunction[] = [];
  for (const sym of elf.functionSymbols()) {
    if (!usable(sym)) continue;
    const off = elf.vaddrToFileOffset(sym.value);
    if (off === undefined) continue;
    // Versioned duplicates ("memcpy@@GLIBC_2.14") are listed under the plain name by the reader already.
    out.push({ name: sym.name, address: sym.value, offset: BigInt(off), size: sym.size });
  }
  return out;
}

/** Functions whose whole name matches `re` (BCC's get_user_functions_and_addresses). */
export function matchUserFunctions(path: string, re: string | RegExp): UserFunction[] {
  let rx: RegExp;
  try {
    rx = new RegExp(`^(?:${typeof re === "string" ? re : re.source})$`);
  } catch (e) {
    throw new ArgumentError("symRe", `not a valid regular expression: ${(e as Error).message}`);
  }
  const seen = new Set<bigint>();
  return userFunctions(path).filter((f) => rx.test(f.name) && !seen.has(f.offset) && seen.add(f.offset));
}

/**
 * The file offset of symbol `sym` (+ `symOff`) in `path`. Errors: a stripped binary (no .symtab and the name is
 * not exported), an unknown name (with the closest names), an offset past the symbol's end.
 */
export function resolveSymbol(path: string, sym: string, symOff = 0): UserFunction {
  if (typeof sym !== "string" || sym === "") throw new ArgumentError("sym", "must be a non-empty symbol name");
  if (!Number.isInteger(symOff) || symOff < 0) throw new ArgumentError("symOff", `must be a non-negative integer, got ${symOff}`);
  const elf = openElf(path);
  const candidates = elf.functionSymbols().filter((s) => s.name === sym && usable(s));
  // Data symbols are allowed too (BCC resolves any symbol), functions first.
  const any = candidates[0] ?? allSymbols(elf).find((s) => s.name === sym && usable(s));
  if (!any) {
    const stripped = !elf.sections.some((s) => s.type === SHT_SYMTAB);
    const near = closeNames(sym, elf.functionSymbols().map((s) => s.name));
    const hint = near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(", ")}?` : "";
    if (stripped) {
      throw new TsbccError(ErrorCode.NO_SYMBOLS, `sym: ${path} is stripped (no .symtab) and does not export "${sym}" in .dynsym${hint}`);
    }
    throw new TsbccError(ErrorCode.NO_SUCH_SYMBOL, `sym: no symbol "${sym}" in ${path}${hint}`);
  }
  if (any.size > 0n && BigInt(symOff) >= any.size) {
    throw new ArgumentError("symOff", `${symOff} is past the end of ${sym} (${any.size} bytes)`);
  }
  const address = any.value + BigInt(symOff);
  return { name: sym, address, offset: fileOffset(elf, path, address, "sym"), size: any.size };
}

function allSymbols(elf: ElfFile): ElfSymbol[] {
  return [...elf.symbols(), ...elf.dynamicSymbols()];
}

/** File offset of a virtual address of `path` (BCC's `addr` argument of attach_uprobe). */
export function addressToOffset(path: string, addr: bigint | number): bigint {
  const a = BigInt(addr);
  if (a < 0n) throw new ArgumentError("addr", `must be a non-negative address, got ${addr}`);
  return fileOffset(openElf(path), path, a, "addr");
}

export interface UprobeSpec {
  /** Path, library name ("c"), or program name; defaults to /proc/PID/exe when `pid` is given. */
  name?: string;
  sym?: string;
  /** Every function whose whole name matches. */
  symRe?: string | RegExp;
  /** A virtual address in the binary instead of a symbol. */
  addr?: number | bigint;
  symOff?: number;
  pid?: number;
}

/** The file and the offsets a uprobe request designates (exactly one of sym, symRe, addr). */
export function resolveUprobeTargets(o: UprobeSpec): { path: string; targets: { offset: bigint; what: string }[] } {
  if (o === null || typeof o !== "object") throw new ArgumentError("opts", "give { name, sym | symRe | addr, fnName }");
  const given = [o.sym, o.symRe, o.addr].filter((x) => x !== undefined).length;
  if (given !== 1) throw new ArgumentError("sym", "give exactly one of sym, symRe or addr");
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || (o.pid <= 0 && o.pid !== -1))) {
    throw new ArgumentError("pid", `must be a process id (or -1 for every process), got ${o.pid}`);
  }
  const pid = o.pid !== undefined && o.pid > 0 ? o.pid : undefined;
  if (o.symOff !== undefined && o.sym === undefined) throw new ArgumentError("symOff", "applies to sym only");
  let path: string;
  if (o.name === undefined || o.name === "") {
    if (!pid) throw new ArgumentError("name", "give the binary (path or library name), or a pid to probe its executable");
    path = processExecutable(pid);
  } else path = resolveBinary(o.name, pid);
  if (o.sym !== undefined) {
    const f = resolveSymbol(path, o.sym, o.symOff ?? 0);
    return { path, targets: [{ offset: f.offset, what: o.symOff ? `${o.sym}+${o.symOff}` : o.sym }] };
  }
  if (o.addr !== undefined) {
    if (typeof o.addr !== "bigint" && !Number.isInteger(o.addr)) throw new ArgumentError("addr", `must be an integer address, got ${o.addr}`);
    return { path, targets: [{ offset: addressToOffset(path, o.addr), what: `0x${BigInt(o.addr).toString(16)}` }] };
  }
  const fns = matchUserFunctions(path, o.symRe!);
  if (fns.length === 0) throw new TsbccError(ErrorCode.NO_SUCH_SYMBOL, `symRe: no function of ${path} matches ${String(o.symRe)}`);
  return { path, targets: fns.map((f) => ({ offset: f.offset, what: f.name })) };
}
