// xz decompression for MiniDebugInfo (`.gnu_debugdata`): the `@napi-rs/lzma` package when it is installed,
// else the `xz` command (Debian's xz-utils). Returns undefined when neither can decompress the data.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

type Decompress = (data: Uint8Array) => Buffer;
let native: Decompress | null | undefined;

function nativeXz(): Decompress | null {
  if (native === undefined) {
    try {
      const lzma = createRequire(import.meta.url)("@napi-rs/lzma") as { xz: { decompressSync: Decompress } };
      native = (data) => lzma.xz.decompressSync(data);
    } catch {
      native = null;
    }
  }
  return native;
}

/** The decompressed bytes of an .xz stream, or undefined when it is corrupt or no decompressor is available. */
export function xzDecompress(data: Uint8Array, useCommand = false): Uint8Array | undefined {
  const lib = useCommand ? null : nativeXz();
  if (lib) {
    try {
      return new Uint8Array(lib(data));
    } catch {
      return undefined;
    }
  }
  const run = spawnSync("xz", ["-dc"], { input: data, maxBuffer: 1 << 30 });
  if (run.error || run.status !== 0) return undefined;
  return new Uint8Array(run.stdout.buffer, run.stdout.byteOffset, run.stdout.byteLength);
}
