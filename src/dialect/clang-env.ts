// What clang reads besides the user's text: the flags both runs share, and the two private trees in the cache
// root they point at (a directory holding only a `bpf` link to libbpf's headers, and the clang module map +
// module cache of the kernel types). Headers found there end up in programs loaded into the kernel, so both
// trees are verified (src/store rules) before every cold compile; what does not belong is removed and rebuilt.

import { lstatSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import {
  euid, isPrivateDir, privateSubdir, readPrivateFile, removeUntrusted, sweepDeadTemps, verifyTree, writePrivateFile,
} from "../store/index.js";
import { cacheKey } from "./cache.js";
import { type ClangInfo, QUIET_WARNINGS, dialectHeaderHash, libbpfIncludeDir, tsbccIncludeDir } from "./clang.js";
import type { KernelSetup } from "./kernel-adapter.js";

/** clang's target triple for this machine (the frontend target with real kernel headers). */
function hostTriple(): string {
  const arch: Record<string, string> = { x64: "x86_64", arm64: "aarch64", s390x: "s390x", ppc64: "powerpc64le", riscv64: "riscv64" };
  return `${arch[process.arch] ?? process.arch}-unknown-linux-gnu`;
}

/** Flags shared by both runs: target, include paths, the kernel types module, quiet warnings. `root` is private. */
export function commonFlags(kernel: KernelSetup, clang: ClangInfo, root: string): string[] {
  const flags = [
    "-target", "bpf", "-nostdinc", "-isystem", join(clang.resourceDir, "include"),
    "-D__TARGET_ARCH_x86", "-D__BPF_TRACING__", "-fno-stack-protector", "-fno-color-diagnostics",
    "-fno-caret-diagnostics", "-fms-extensions", ...QUIET_WARNINGS,
  ];
  for (const d of kernel.includeDirs) flags.push("-I", d);
  flags.push("-I", tsbccIncludeDir(), "-isystem", libbpfOnlyDir(root));
  if (kernel.realHeaders) {
    // Kernel headers hold x86 inline asm that only the host target parses: both runs use the host target and
    // the IR is retargeted to BPF afterwards (the classic clang -emit-llvm | opt | llc pipeline, as BCC does).
    const cf = [...kernel.cflags];
    for (let i = cf.indexOf("-target"); i >= 0; i = cf.indexOf("-target")) cf.splice(i, 2);
    flags.splice(flags.indexOf("-target"), 2, "-target", hostTriple());
    flags.push(...cf);
    for (const h of kernel.typeHeaders) flags.push("-include", h);
    return flags;
  }
  flags.push(...kernel.cflags);
  const modDir = moduleDir(root, kernel, clang);
  flags.push("-fmodules", `-fmodules-cache-path=${join(modDir, "cache")}`, `-fmodule-map-file=${join(modDir, "module.modulemap")}`,
    "-fno-implicit-module-maps", "-D__TSBCC_MODULES__",
    // The module (kernel types, libbpf, base.h) does not depend on the mode: one build serves both runs.
    "-fmodules-ignore-macro=__TSBCC_ANALYZE__", "-fmodules-ignore-macro=__TSBCC_CODEGEN__");
  return flags;
}

/**
 * `<root>/libbpf-include`: exactly one entry, `bpf`, our link to libbpf's header directory, so -nostdinc builds
 * see <bpf/...> and nothing else. Anything else there (a planted `bpf/` directory, another header) is removed.
 */
export function libbpfOnlyDir(root: string): string {
  const dir = privateSubdir(root, "libbpf-include");
  const link = join(dir, "bpf");
  const target = join(libbpfIncludeDir(), "bpf");
  for (const name of readdirSync(dir)) if (name !== "bpf") removeUntrusted(join(dir, name), "does not belong in libbpf-include");
  try {
    if (readlinkSync(link) === target && ourLink(link)) return dir;
    removeUntrusted(link, `is not our link to ${target}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EINVAL") removeUntrusted(link, "is not a symbolic link"); // a real file or directory
    else if (code !== "ENOENT") throw err;
  }
  try {
    symlinkSync(target, link);
  } catch (err) {
    // Another compile of ours made it meanwhile; anything else is not ours to use.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST" || readlinkSync(link) !== target || !ourLink(link)) throw err;
  }
  return dir;
}

function ourLink(path: string): boolean {
  const st = lstatSync(path);
  return st.isSymbolicLink() && st.uid === euid();
}

/**
 * `<root>/modules/<id>`: the clang module map for these kernel types and headers, and its module cache. The
 * map is rewritten unless it says exactly what we would write; the module cache is verified whole.
 */
export function moduleDir(root: string, kernel: KernelSetup, clang: ClangInfo): string {
  const id = cacheKey({ k: kernel.identity, v: kernel.typeHeaders, i: kernel.includeDirs, h: dialectHeaderHash(), c: clang.version, p: clang.path }).slice(0, 24);
  const parent = privateSubdir(root, "modules");
  const dir = join(parent, id);
  const base = join(tsbccIncludeDir(), "tsbcc", "base.h");
  const text = `module tsbcc_base {\n${[...kernel.typeHeaders, base].map((h) => `  header "${h}"\n`).join("")}  export *\n}\n`;
  if (!isPrivateDir(dir)) pruneModuleDirs(parent, id);
  privateSubdir(parent, id);
  const map = join(dir, "module.modulemap");
  const existing = readPrivateFile(map)?.toString("utf8");
  if (existing !== text) {
    if (existing !== undefined) removeUntrusted(map, "differs from the module map tsbcc writes");
    // Whatever the module cache holds was built from another map (or none): it is rebuilt from ours.
    rmSync(join(dir, "cache"), { recursive: true, force: true });
    writePrivateFile(map, text);
  }
  sweepDeadTemps(dir);
  // clang's lock files are links it makes itself (pid + host in the target name).
  verifyTree(privateSubdir(dir, "cache"), (path) => path.endsWith(".lock"));
  const now = new Date();
  utimesSync(dir, now, now); // in use: pruning by other processes spares it
  return dir;
}

/**
 * Keeps the few most recently used module caches (each holds a ~30 MB build of vmlinux.h) besides `keepId`.
 * One used within the hour is never removed: another process (another checkout, another kernel-types setup)
 * may be between its two clang runs.
 */
function pruneModuleDirs(parent: string, keepId: string, keep = 3): void {
  const hourAgo = Date.now() - 3600_000;
  const dirs = readdirSync(parent).filter((n) => n !== keepId).map((n) => join(parent, n))
    .map((path) => ({ path, mtime: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const d of dirs.slice(keep - 1)) if (d.mtime < hourAgo) rmSync(d.path, { recursive: true, force: true });
}
