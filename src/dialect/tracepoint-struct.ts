// Tracepoint context structs: `struct tracepoint__<cat>__<evt>` built from tracefs `format` files.
//
// BCC programs read tracepoint records through `args->field`. The record layout is only published as
// text (`<tracefs>/events/<cat>/<evt>/format`), so the struct is synthesised from it, following BCC's
// rules (bcc-spec 2d) so that programs written for BCC see the same member names and types:
//   - the common header (common_type, common_flags, ...) becomes one `u64 __do_not_use__;`, plus one
//     `char __do_not_use__<N>;` per byte when the common fields reach past 8 bytes;
//   - a hole before a field becomes one `char __pad_<N>;` per missing byte (N = byte offset);
//   - `__data_loc` fields become `int data_loc_<name>;` (read through TP_DATA_LOC_READ*);
//   - a scalar whose declared size is wider than its C type is widened (syscall arguments are all
//     8 bytes wide, e.g. `int flags; size:8` becomes `s64 flags;`), otherwise the type text is kept;
//   - an array dimension that is not a number (`char comm[TASK_COMM_LEN]`) is resolved to a constant.
import { ErrorCode, TsbccError } from "../errors.js";

import { readFileSync } from "node:fs";
import { Btf } from "../btf/btf.js";
import { tracepointFormatPath, tracepointId } from "../kernel/tracefs.js";

/** One `field:` line of a tracepoint format file. */
export interface TracepointField {
  /** Declared type text as printed by the kernel, without the array suffix (e.g. `const char *`, `__data_loc char[]`). */
  type: string;
  /** Member name without array dimensions. */
  name: string;
  offset: number;
  size: number;
  signed: boolean;
  /** `__data_loc` (or `__rel_loc`) dynamic field: the record holds a 32-bit (length << 16 | offset) locator. */
  isDataLoc: boolean;
  /** Text between the brackets of the name's array suffix (`16`, `TASK_COMM_LEN`, `` for `[]`), or null. */
  arrayDim: string | null;
  /** One of the common header fields (`common_type`, `common_pid`, ...). */
  isCommon: boolean;
}

/** Looks up a named constant (an enum constant from kernel BTF, a known macro); undefined if unknown. */
export type ConstantResolver = (name: string) => number | bigint | undefined;

export interface TracepointStructOptions {
  /** Format file text to use instead of reading tracefs (tests, cached formats). */
  formatText?: string;
  /** Resolves non-numeric array dimensions; tried before the kernel's BTF and the table of well-known macros. */
  resolveConstant?: ConstantResolver;
  /** Look unresolved dimension names up as enum constants in /sys/kernel/btf/vmlinux (default true). */
  useKernelBtf?: boolean;
}

/** The tracepoint has no format file (it does not exist on this kernel). */
export class TracepointFormatError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.NO_SUCH_TRACEPOINT, message);
  }
}

// Macros that tracepoint formats have printed as array dimensions. Since 5.18 TASK_COMM_LEN is an enum
// (found in BTF by a resolver); before that it was a macro, which is why it is also listed here.
const WELL_KNOWN_CONSTANTS: Record<string, number> = { TASK_COMM_LEN: 16 };

const FIELD_RE = /^\s*field:(.*?);\s*offset:\s*(\d+);\s*size:\s*(\d+);(?:\s*signed:\s*(\d+);)?/;

/** Parses the `field:` lines of a tracefs format file, in file order (common fields included). */
export function parseTracepointFormat(text: string): TracepointField[] {
  const fields: TracepointField[] = [];
  for (const line of text.split("\n")) {
    const m = FIELD_RE.exec(line);
    if (!m) continue;
    const decl = m[1]!.trim();
    const split = splitDeclaration(decl);
    if (!split) continue; // a declaration without a name: nothing to map to a member
    const isDataLoc = /^__(data|rel)_loc\b/.test(split.type);
    fields.push({
      type: split.type,
      name: split.name,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === "1",
      isDataLoc,
      arrayDim: split.arrayDim,
      isCommon: split.name.startsWith("common_"),
    });
  }
  return fields;
}

// "const char * filename" -> type "const char *", name "filename"; "char comm[TASK_COMM_LEN]" -> dim.
// Dimensions are peeled off first so that a dimension containing spaces (`[N + 1]`) does not break the
// split at the last blank, which is how the name is separated from the type.
function splitDeclaration(decl: string): { type: string; name: string; arrayDim: string | null } | null {
  let rest = decl;
  let arrayDim: string | null = null;
  if (rest.endsWith("]")) {
    const open = firstDimensionStart(rest);
    if (open > 0) {
      arrayDim = rest.slice(open + 1, -1).trim();
      rest = rest.slice(0, open).trimEnd();
    }
  }
  const cut = Math.max(rest.lastIndexOf(" "), rest.lastIndexOf("\t"));
  if (cut <= 0) return null;
  const name = rest.slice(cut + 1);
  let type = rest.slice(0, cut).trim();
  // "char *name" style: the pointer star is glued to the name.
  let bare = name;
  while (bare.startsWith("*")) {
    type += " *";
    bare = bare.slice(1);
  }
  if (!/^[A-Za-z_]\w*$/.test(bare)) return null;
  return { type, name: bare, arrayDim };
}

// Index of the '[' that starts the trailing run of `[..]` groups (so `x[2][3]` keeps "2][3" as the dim text).
function firstDimensionStart(s: string): number {
  let i = s.length;
  let start = -1;
  while (i > 0 && s[i - 1] === "]") {
    let depth = 0;
    let j = i - 1;
    for (; j >= 0; j--) {
      if (s[j] === "]") depth++;
      else if (s[j] === "[" && --depth === 0) break;
    }
    if (j < 0) return -1;
    start = j;
    i = j;
    while (i > 0 && (s[i - 1] === " " || s[i - 1] === "\t")) i--;
    if (s[i - 1] !== "]") break;
  }
  return start;
}

/** `struct tracepoint__<category>__<event>`'s tag. */
export function tracepointStructName(category: string, event: string): string {
  return `tracepoint__${category}__${event}`;
}

/** Reads `<tracefs>/events/<category>/<event>/format`; throws if the tracepoint does not exist. */
export function readTracepointFormat(category: string, event: string): string {
  const path = tracepointFormatPath(category, event);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new TracepointFormatError(`cannot read the format of tracepoint ${category}:${event} (${path}): ${(err as Error).message}`);
    }
    tracepointId(category, event); // throws UnknownTracepointError (with close names) when the event directory is absent
    throw new TracepointFormatError(`tracepoint ${category}:${event} does not exist: ${path} is missing`);
  }
}

/**
 * The C definition of `struct tracepoint__<category>__<event>` for the running kernel (or for
 * `opts.formatText`), ending in `};\n`.
 */
export function tracepointStruct(category: string, event: string, opts: TracepointStructOptions = {}): string {
  for (const [what, v] of [["category", category], ["event", event]] as const) {
    if (!/^\w+$/.test(v)) throw new TypeError(`invalid tracepoint ${what} name ${JSON.stringify(v)}`);
  }
  const text = opts.formatText ?? readTracepointFormat(category, event);
  const own = opts.resolveConstant;
  const useBtf = opts.useKernelBtf ?? true;
  const resolve: ConstantResolver = (name) => own?.(name) ?? (useBtf ? kernelEnumConstant(name) : undefined);
  return structFromFields(tracepointStructName(category, event), parseTracepointFormat(text), resolve);
}

let kernelBtf: Btf | null | undefined;

/** Value of an enum constant in the running kernel's BTF (parsed on first use, ~20 ms), or undefined. */
export function kernelEnumConstant(name: string): number | bigint | undefined {
  if (kernelBtf === undefined) {
    try {
      kernelBtf = Btf.parse(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
    } catch {
      kernelBtf = null; // no BTF: the caller falls back to well-known values
    }
  }
  return kernelBtf?.enumValue(name)?.value;
}

/** Builds the struct text from parsed fields (exposed for callers that already hold the fields). */
export function structFromFields(tag: string, fields: TracepointField[], resolve?: ConstantResolver): string {
  const lines = [`struct ${tag} {`, "\tu64 __do_not_use__;"];
  let end = 0; // first byte after the last emitted member
  let commonEnd = 8; // the u64 above stands for the first 8 bytes of common fields
  for (const f of fields) {
    // Holes are filled before anything else, with one char per byte, named by its offset.
    for (; end < f.offset; end++) lines.push(`\tchar __pad_${end};`);
    end = f.offset + f.size;
    if (f.isDataLoc) {
      lines.push(`\tint data_loc_${f.name};`);
    } else if (f.isCommon) {
      for (; commonEnd < end; commonEnd++) lines.push(`\tchar __do_not_use__${commonEnd};`);
    } else if (f.arrayDim !== null) {
      lines.push(`\t${f.type} ${f.name}[${resolveDimension(f.arrayDim, resolve)}];`);
    } else {
      lines.push(`\t${widenedType(f.type, f.size)} ${f.name};`);
    }
  }
  lines.push("};", "");
  return lines.join("\n");
}

// A field recorded wider than its C type (syscall arguments are stored as longs) takes a type of the
// recorded size, so that the next member lands where the format says. Unlike BCC, qualifiers do not
// hide a type from the table: `const int ruleset_fd; size:8` (landlock syscalls) would otherwise leave
// every later member 4 bytes early.
export function widenedType(type: string, size: number): string {
  const bare = type.replace(/\b(const|volatile)\s+/g, "").trim();
  const is = (...names: string[]) => names.includes(bare);
  if (size === 2) {
    if (is("char", "int8_t")) return "s16";
    if (is("unsigned char", "uint8_t")) return "u16";
  } else if (size === 4) {
    if (is("char", "short", "int8_t", "int16_t")) return "s32";
    if (is("unsigned char", "unsigned short", "uint8_t", "uint16_t")) return "u32";
  } else if (size === 8) {
    if (is("char", "short", "int", "int8_t", "int16_t", "int32_t", "pid_t")) return "s64";
    if (is("unsigned char", "unsigned short", "unsigned int", "uint8_t", "uint16_t", "uint32_t", "unsigned", "u32", "uid_t", "gid_t")) {
      return "u64";
    }
  }
  return type;
}

// Replaces every identifier in a dimension expression by its value; unknown names stay as they are
// (clang may still know them, e.g. an enum constant in vmlinux.h).
function resolveDimension(dim: string, resolve?: ConstantResolver): string {
  if (/^\s*\d*\s*$/.test(dim)) return dim.trim();
  const out = dim.replace(/\b[A-Za-z_]\w*\b/g, (id) => {
    const v = resolve?.(id) ?? WELL_KNOWN_CONSTANTS[id];
    return v === undefined ? id : String(v);
  });
  // A lone number stays a number; an expression keeps its shape and is folded by clang.
  return out.trim();
}
