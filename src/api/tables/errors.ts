// Typed errors for table keys and values. A caller who passes the wrong shape gets an error that names the
// table, the C type the map expects and what was actually given, instead of a bare codec or errno message.
import { ErrorCode, TsbccError, type ErrorCodeName } from "../../errors.js";

/** Short, bounded description of a JavaScript value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number") return `number ${v}`;
  if (typeof v === "bigint") return `bigint ${v}n`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.byteLength} bytes)`;
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (typeof v === "object") {
    const names = Object.keys(v);
    const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? ", …" : "");
    return `object {${shown}}`;
  }
  return typeof v;
}

/** Base class of TableKeyError and TableValueError. */
export class TableError extends TsbccError {
  /** Name of the table (map) involved. */
  readonly table: string;
  constructor(code: ErrorCodeName, table: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.table = table;
  }
}

function detail(expected: string, given: unknown, reason?: string): string {
  return `expected ${expected}, got ${describeValue(given)}${reason ? ` (${reason})` : ""}`;
}

/** A key that cannot be encoded for this table (wrong type, wrong byte length, out of range, unknown field). */
export class TableKeyError extends TableError {
  constructor(table: string, expected: string, given: unknown, reason?: string, options?: { cause?: unknown }) {
    super(ErrorCode.TABLE_KEY, table, `table "${table}": invalid key: ${detail(expected, given, reason)}`, options);
  }
}

/** A value that cannot be encoded for this table. */
export class TableValueError extends TableError {
  constructor(table: string, expected: string, given: unknown, reason?: string, options?: { cause?: unknown }) {
    super(ErrorCode.TABLE_VALUE, table, `table "${table}": invalid value: ${detail(expected, given, reason)}`, options);
  }
}

/** Raised by codecs themselves; the table turns it into TableKeyError/TableValueError with its own name. */
export class CodecError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.TABLE_VALUE, message);
  }
}
