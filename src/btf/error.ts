/**
 * The one error type of the BTF layer. Malformed input, lookups of things that do not exist in a way the caller
 * cannot check beforehand, and values the codec cannot encode all raise this, so callers can tell "bad BTF or bad
 * value" apart from programming errors.
 */
export class BtfError extends Error {
  override readonly name = "BtfError";
  constructor(message: string) {
    super(message);
  }
}
