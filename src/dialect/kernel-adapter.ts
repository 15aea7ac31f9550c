// The dialect compiler's view of kernel types (src/dialect/kernel-types.ts, owned separately).
//
// kernel-types.ts gives include directories in which kernel headers resolve to the BTF-generated vmlinux.h plus
// shims, and an identity of the kernel BTF they came from. This module asks it and normalizes the answer into
// what the compiler needs: the include dirs, the headers to build the clang module from, and a cache identity.

import { kernelTypesInclude } from "./kernel-types.js";

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


/** Asks kernel-types for the include setup; `text` is scanned for kernel header names that need shims. */
export async function kernelSetup(useKernelHeaders: boolean, text: string, cacheDir?: string): Promise<KernelSetup> {
  const r = await kernelTypesInclude({ useKernelHeaders, pch: false, sources: [text], ...(cacheDir ? { cacheDir } : {}) });
  return {
    includeDirs: r.includeDirs,
    typeHeaders: r.forceIncludes,
    cflags: r.cflags,
    identity: r.identity,
    realHeaders: r.mode === "headers",
  };
}
