/**
 * Cheap cache keys for BTF blobs: tools cache compiled programs and generated headers per kernel BTF, and the
 * key must be computable in well under a millisecond at startup, before deciding whether to parse at all.
 */
import { createHash } from "node:crypto";
import { asBytes, type Bytes } from "./error.js";

const SAMPLES = 64;
const SAMPLE_BYTES = 64;
const EDGE_BYTES = 1024;

export interface IdentityOptions {
  /** Hash every byte (SHA-256, a few ms for vmlinux) instead of sampling. */
  full?: boolean;
}

/**
 * Identity of a BTF blob as a short string. The default hashes the exact size, the first and last KiB (header,
 * first types, last strings) and 64 windows spread over the blob: two kernel builds differ in those in practice,
 * and it costs tens of microseconds. Use `{ full: true }` where a collision would be a correctness problem.
 */
export function btfIdentity(input: Bytes, options: IdentityOptions = {}): string {
  const bytes = asBytes(input);
  const n = bytes.length;
  const h = createHash("sha256");
  if (options.full || n <= 2 * EDGE_BYTES + SAMPLES * SAMPLE_BYTES) {
    h.update(bytes);
  } else {
    // Native hashing of a few slices: fast even before the JIT has warmed up.
    h.update(bytes.subarray(0, EDGE_BYTES));
    h.update(bytes.subarray(n - EDGE_BYTES));
    const step = Math.floor((n - 2 * EDGE_BYTES) / SAMPLES);
    for (let i = 0; i < SAMPLES; i++) {
      const at = EDGE_BYTES + i * step;
      h.update(bytes.subarray(at, at + SAMPLE_BYTES));
    }
  }
  const kind = options.full ? "f" : "s";
  return `btf-${n.toString(16)}-${kind}${h.digest("hex").slice(0, 24)}`;
}
