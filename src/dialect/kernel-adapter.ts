// The dialect compiler's view of kernel types (src/dialect/kernel-types.ts, owned separately).
//
// kernel-types.ts gives include directories in which kernel headers resolve to the BTF-generated vmlinux.h plus
// shims, and an identity of the kernel BTF they came from. This module asks it and normalizes the answer into
// what the compiler needs: the include dirs, the vmlinux.h to build the clang module from, and a cache identity.

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface KernelSetup {
  includeDirs: string[];
  /** Headers holding the kernel types (kernel-types' forceIncludes): built into the tsbcc_base clang module in
   * BTF mode, force-included as text with real kernel headers. */
  typeHeaders: string[];
  /** Flags kernel-types requires (target, -nostdinc with clang's headers, arch, BCC's kernel flags). */
  cflags: string[];
  /** Changes whenever the kernel types change (part of every cache key). */
  identity: string;
  /** Real kernel headers (no module: textual includes). */
  realHeaders: boolean;
}

type AnyRecord = Record<string, unknown>;
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Asks kernel-types for the include setup; `text` is scanned for kernel header names that need shims. */
export async function kernelSetup(useKernelHeaders: boolean, text: string, cacheDir?: string): Promise<KernelSetup> {
  let mod: AnyRecord;
  try {
    // A computed specifier: kernel-types.ts is developed separately and may not build in every checkout.
    const spec = "./kernel-types.js";
    mod = (await import(spec)) as AnyRecord;
  } catch (err) {
    const dev = process.env.TSBCC_KERNEL_TYPES_DIR;
    if (!dev) throw new Error(`tsbcc: kernel types unavailable (src/dialect/kernel-types.ts): ${(err as Error).message}`);
    return standIn(dev);
  }
  const fn = mod.kernelTypesInclude as ((opts: AnyRecord) => Promise<AnyRecord>) | undefined;
  if (typeof fn !== "function") throw new Error("tsbcc: kernel-types.ts has no kernelTypesInclude()");
  const opts: AnyRecord = { useKernelHeaders, pch: false, sources: [text] };
  if (cacheDir) opts.cacheDir = cacheDir;
  const r = await fn(opts);
  const includeDirs = isStrArr(r.includeDirs) ? r.includeDirs : [];
  return {
    includeDirs,
    typeHeaders: isStrArr(r.forceIncludes) ? r.forceIncludes : [],
    cflags: isStrArr(r.cflags) ? r.cflags : [],
    identity: typeof r.identity === "string" ? r.identity : includeDirs.join(":"),
    realHeaders: r.mode === "headers",
  };
}

/** Development stand-in: TSBCC_KERNEL_TYPES_DIR holds vmlinux.h (and tsbcc/kernel-config.h, btf-fallbacks.h). */
function standIn(dir: string): KernelSetup {
  const vmlinux = join(dir, "vmlinux.h");
  if (!existsSync(vmlinux)) throw new Error(`tsbcc: ${vmlinux} missing`);
  const st = statSync(vmlinux);
  const shims = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "include", "kernel");
  let btf = "";
  try {
    btf = readFileSync("/sys/kernel/btf/vmlinux").subarray(0, 64).toString("hex");
  } catch {
    // not fatal
  }
  return {
    includeDirs: [dir, shims],
    typeHeaders: [join(shims, "tsbcc", "kernel.h")],
    cflags: ["-D__TARGET_ARCH_x86"],
    identity: `standin:${vmlinux}:${st.size}:${st.mtimeMs}:${btf}`,
    realHeaders: false,
  };
}
