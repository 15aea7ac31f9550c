import { ErrorCode, TsbccError } from "../errors.js";
/**
 * The one error type of the BTF layer. Malformed input, lookups of things that do not exist in a way the caller
 * cannot check beforehand, and values the codec cannot encode all raise this, so callers can tell "bad BTF or bad
 * value" apart from programming errors.
 */
export class BtfError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.BAD_BTF, message);
  }
}

/**
 * Byte input accepted by the public entry points. With this project's @types/node and TypeScript, `Buffer` is not
 * assignable to `Uint8Array`, so both are named; at run time a Buffer is a Uint8Array.
 */
export type Bytes = Uint8Array | Buffer;

export function asBytes(b: Bytes): Uint8Array {
  return b as unknown as Uint8Array;
}
