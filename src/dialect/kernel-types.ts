// Kernel types for BCC programs without kernel headers.
//
// BCC compiles against /lib/modules/$(uname -r)/build, which is often missing or for another kernel
// (bcc-spec 6.1/6.2). Here the types come from the running kernel's BTF instead: once per kernel we print
// vmlinux.h from /sys/kernel/btf/vmlinux into a private cache directory, next to two small generated
// headers (kconfig values, constants this BTF lacks) and a clang precompiled header of all of it. The
// static shim tree include/kernel/ maps every kernel header name a BCC program includes (<linux/sched.h>,
// <net/sock.h>, <uapi/linux/ptrace.h>, ...) onto that; header names outside the tree get a generic shim
// synthesised in the cache (ensureIncludeShims). `useKernelHeaders` / TSBCC_KERNEL_HEADERS=1 selects the
// real kernel header tree instead, with BCC's flags.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join, sep } from "node:path";
import { Btf } from "../btf/btf.js";
import { btfIdentity } from "../btf/identity.js";
import { printCHeader } from "../btf/c-printer.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { kernelRelease } from "../kernel/release.js";
import {
  StoreError, isPrivateDir, isPrivateFile, privateRoot, privateSubdir, readPrivateFile, removeUntrusted, sweepDeadTemps, tempNameFor, verifyTree, writePrivateFile,
  writePrivateFileQuiet, writePrivateTree,
} from "../store/index.js";
import { type ClangInfo, clangInfo, runChecked, tsbccIncludeDir } from "./clang.js";
import { defaultCacheRoot } from "./cache.js";
import { btfFallbacksHeader, kernelConfigHeader } from "./kernel-type-headers.js";

export { btfFallbacksHeader, kconfigDefines } from "./kernel-type-headers.js";

export interface KernelTypesOptions {
  /** Use the real kernel headers (also `TSBCC_KERNEL_HEADERS=1`). */
  useKernelHeaders?: boolean;
  /** Cache root (default `$TSBCC_CACHE_DIR`, `$XDG_CACHE_HOME/tsbcc`, `/var/cache/tsbcc` as root, `~/.cache/tsbcc`). */
  cacheDir?: string;
  /** clang binary the compile will use (default: clang.ts findClang: `$TSBCC_CLANG`, `clang` on PATH, /usr/bin/clang); the PCH is built with it. */
  clang?: string;
  /** Build and return the precompiled header (default true; btf mode only). */
  pch?: boolean;
  /** Program texts to scan for `#include <...>` names to synthesise shims for (see ensureIncludeShims). */
  sources?: string[];
  /** Kernel BTF to use (default /sys/kernel/btf/vmlinux). */
  btfPath?: string;
}

export interface KernelTypes {
  mode: "btf" | "headers";
  /** `-I` directories, in order. */
  includeDirs: string[];
  /** Headers to `-include`, in order, when `pch` is not used (the PCH holds exactly these). */
  forceIncludes: string[];
  /** Changes whenever anything here would change a compile's result (for compile-cache keys). */
  identity: string;
  /** Precompiled `forceIncludes`: pass `-include-pch <pch>` instead of the `-include`s. */
  pch?: string;
  /**
   * Flags every compile using these includes must pass (the PCH was built with exactly these, and clang
   * refuses a PCH built with another `-O` level or conflicting -D values): target, -O2, -nostdinc with
   * clang's own header dir, -D__TARGET_ARCH_<arch>, and in headers mode BCC's kernel flags.
   */
  cflags: string[];
  /** Ready argv fragment: cflags, -I dirs, then `-include-pch` (or the `-include`s). */
  args: string[];
  /** btf mode: the per-kernel cache entry (vmlinux.h is in `<entry>/include`). */
  cacheEntry?: string;
}

/** Bump when the generated files change shape, so old cache entries are not reused. */
const GENERATOR_VERSION = 2;
const DEFAULT_BTF = "/sys/kernel/btf/vmlinux";
const SHIM_ROOT = join(tsbccIncludeDir(), "kernel");
/** Shim-tree files with real content: their bytes are part of the identity and of the PCH check. */
const CONTENT_FILES = [
  "tsbcc/kernel.h", "tsbcc/kernel-defs.h", "tsbcc/net-defs.h", "tsbcc/math64.h", "tsbcc/jiffies.h", "bcc/proto.h", "stdint.h", "stddef.h", "stdarg.h",
];
/** First path components of kernel header names (anything else is not ours to synthesise). */
const KERNEL_DIRS = new Set([
  "linux", "uapi", "asm", "asm-generic", "net", "trace", "scsi", "xen", "crypto", "keys", "drm", "sound", "media",
  "rdma", "video", "acpi", "clocksource", "kvm", "misc", "ras", "soc", "target", "vdso", "generated", "math-emu", "pcmcia",
]);
const NET_PREFIXES = ["net/", "linux/netfilter", "uapi/linux/netfilter", "linux/if_", "uapi/linux/if_"];

const memo = new Map<string, Promise<KernelTypes>>();

/** Include directories, forced includes and flags that make kernel headers resolve for clang. */
export async function kernelTypesInclude(opts: KernelTypesOptions = {}): Promise<KernelTypes> {
  const headers = opts.useKernelHeaders ?? process.env.TSBCC_KERNEL_HEADERS === "1";
  const key = JSON.stringify([headers, opts.cacheDir, opts.clang, opts.pch, opts.btfPath]);
  let p = memo.get(key);
  if (!p) {
    p = headers ? headersMode(opts) : btfMode(opts);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  let kt = await p;
  if (kt.cacheEntry && !isPrivateDir(kt.cacheEntry)) {
    // The entry was removed (or tampered with) since: build it again.
    if (memo.get(key) === p) memo.delete(key);
    kt = await kernelTypesInclude({ ...opts, sources: [] });
  }
  if (opts.sources?.length) ensureIncludeShims(kt, opts.sources);
  return kt;
}

/** Forgets the per-process results (tests; or after the cache directory was changed behind our back). */
export function clearKernelTypesMemo(): void {
  memo.clear();
}

// ---------------------------------------------------------------- btf mode

async function btfMode(opts: KernelTypesOptions): Promise<KernelTypes> {
  const btfPath = opts.btfPath ?? DEFAULT_BTF;
  if (!fs.existsSync(btfPath)) {
    throw new TsbccError(ErrorCode.UNSUPPORTED,
      `kernel BTF not found at ${btfPath} (the kernel needs CONFIG_DEBUG_INFO_BTF=y); ` +
        "set TSBCC_KERNEL_HEADERS=1 to compile against /lib/modules/$(uname -r)/build instead",
    );
  }
  const root = privateRoot(opts.cacheDir ?? defaultCacheRoot());
  const kernelRoot = privateSubdir(root, "kernel");
  const btfId = btfIdentityFor(btfPath, kernelRoot);
  const name = `${btfId}-g${GENERATOR_VERSION}`;
  const entry = join(kernelRoot, name);
  if (!validEntry(kernelRoot, name)) generateEntry(kernelRoot, name, btfPath);

  const clang = await clangInfo({ clang: opts.clang, stateDir: root });
  const includeDir = join(entry, "include");
  const cflags = ["-target", "bpf", "-O2", "-nostdinc", "-isystem", join(clang.resourceDir, "include"), `-D__TARGET_ARCH_${targetArch()}`];
  const includeDirs = [includeDir, SHIM_ROOT];
  const forceIncludes = [join(SHIM_ROOT, "tsbcc", "kernel.h")];
  const staticHash = contentHash();
  const identity = `btf:${btfId}:g${GENERATOR_VERSION}:s${staticHash}`;
  let pch: string | undefined;
  if (opts.pch ?? true) pch = await ensurePch(entry, clang, cflags, includeDirs, forceIncludes);
  const args = [...cflags, ...includeDirs.flatMap((d) => ["-I", d])];
  if (pch) args.push("-include-pch", pch);
  else for (const f of forceIncludes) args.push("-include", f);
  return { mode: "btf", includeDirs, forceIncludes, identity, pch, cflags, args, cacheEntry: entry };
}

// Hashing all of vmlinux BTF costs ~15 ms; it cannot change before a reboot, so the hash is remembered
// per boot id (and size, belt and braces).
function btfIdentityFor(btfPath: string, kernelRoot: string): string {
  const stampPath = join(kernelRoot, "btf-stamp.json");
  let bootId = "";
  try {
    bootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch { /* no boot id: always hash */ }
  const size = fs.statSync(btfPath).size;
  const stampKey = `${bootId}:${btfPath}:${size}`;
  if (bootId) {
    try {
      const stamp = JSON.parse(readPrivateFile(stampPath)?.toString("utf8") ?? "") as { key: string; id: string };
      if (stamp.key === stampKey && /^[\w-]+$/.test(stamp.id)) return stamp.id;
    } catch { /* absent or unreadable: recompute */ }
  }
  const id = btfIdentity(fs.readFileSync(btfPath), { full: true });
  if (bootId) writePrivateFileQuiet(stampPath, JSON.stringify({ key: stampKey, id }));
  return id;
}

// An entry is used only if it and everything in it is ours and closed to others (headers in it end up in
// programs loaded into the kernel); one with anything else in it is removed whole and generated again.
function validEntry(kernelRoot: string, name: string): boolean {
  const entry = join(kernelRoot, name);
  if (!fs.existsSync(entry) && !isLink(entry)) return false;
  if (!isPrivateDir(entry) || verifyTree(entry) > 0) {
    removeUntrusted(entry, "is a kernel types entry with files tsbcc did not write");
    return false;
  }
  try {
    const meta = JSON.parse(readPrivateFile(join(entry, "meta.json"))?.toString("utf8") ?? "") as { generator?: number };
    return meta.generator === GENERATOR_VERSION && fs.existsSync(join(entry, "include", "vmlinux.h"));
  } catch {
    return false;
  }
}

function isLink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

// The entry is published whole (src/store writePrivateTree), so a concurrent or interrupted run never sees a
// half-written one; when another process published first, its entry is used.
function generateEntry(kernelRoot: string, name: string, btfPath: string): void {
  const btf = Btf.parse(fs.readFileSync(btfPath));
  const started = process.hrtime.bigint();
  const vmlinux = printCHeader(btf);
  const printMs = Number(process.hrtime.bigint() - started) / 1e6;
  const meta = { generator: GENERATOR_VERSION, btf: btfPath, release: kernelRelease(), printMs, created: new Date().toISOString() };
  const published = writePrivateTree(join(kernelRoot, name), {
    "include/vmlinux.h": vmlinux,
    "include/tsbcc/kernel-config.h": kernelConfigHeader(),
    "include/tsbcc/btf-fallbacks.h": btfFallbacksHeader(btf),
    "meta.json": JSON.stringify(meta, null, 1),
  });
  if (!published && !validEntry(kernelRoot, name)) throw new StoreError(`cannot publish ${join(kernelRoot, name)}`);
  removeStaleEntries(kernelRoot, name);
}

// Entries of older generator versions for the same BTF, and temporaries of killed runs, are dead weight
// (a few MB of header and ~13 MB of PCH each).
function removeStaleEntries(kernelRoot: string, name: string): void {
  const btfPart = name.replace(/-g\d+$/, "");
  for (const other of fs.readdirSync(kernelRoot)) {
    if (other !== name && other.startsWith(`${btfPart}-g`) && /^[\w-]+-g\d+$/.test(other)) {
      fs.rmSync(join(kernelRoot, other), { recursive: true, force: true });
    }
  }
  sweepDeadTemps(kernelRoot);
}

/** libbpf's `__TARGET_ARCH_*` spelling of the host architecture. */
export function targetArch(): string {
  const map: Record<string, string> = {
    x64: "x86", ia32: "x86", arm64: "arm64", arm: "arm", s390x: "s390", ppc64: "powerpc", riscv64: "riscv",
    loong64: "loongarch", mips64el: "mips", mips: "mips",
  };
  return map[process.arch] ?? process.arch;
}


function contentHash(): string {
  const h = createHash("sha256");
  for (const f of CONTENT_FILES) {
    h.update(f);
    try {
      h.update(fs.readFileSync(join(SHIM_ROOT, f), "utf8"));
    } catch {
      h.update("\0missing");
    }
  }
  return h.digest("hex").slice(0, 12);
}

// ---------------------------------------------------------------- the PCH

function fileStamp(path: string): string {
  const st = fs.statSync(path);
  return `${st.size}:${st.mtimeMs}`;
}

async function ensurePch(entry: string, clang: ClangInfo, cflags: string[], includeDirs: string[], forceIncludes: string[]): Promise<string> {
  const pch = join(entry, "vmlinux.pch");
  const inputs = [join(entry, "include", "vmlinux.h"), join(entry, "include", "tsbcc", "kernel-config.h"),
    join(entry, "include", "tsbcc", "btf-fallbacks.h"), ...CONTENT_FILES.map((f) => join(SHIM_ROOT, f))];
  // clang rejects a PCH whose inputs changed size or mtime since it was built; so do we, before it does.
  const stamp = JSON.stringify({ clang: clang.fingerprint, cflags, includeDirs, forceIncludes, inputs: inputs.map(fileStamp) });
  const stampPath = join(entry, "vmlinux.pch.json");
  if (readPrivateFile(stampPath)?.toString("utf8") === stamp && isPrivateFile(pch)) return pch;
  const tmp = tempNameFor(pch);
  const args = [...cflags, ...includeDirs.flatMap((d) => ["-I", d]), "-x", "c-header", ...forceIncludes, "-o", tmp];
  try {
    await runChecked(clang.path, args, "build the kernel-types precompiled header");
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, pch);
  writePrivateFile(stampPath, stamp);
  return pch;
}

// ---------------------------------------------------------------- shims for unknown header names

/** `<...>` include names in C text (comments are not stripped: an extra shim is harmless). */
export function scanIncludes(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/^[ \t]*#[ \t]*include[ \t]*<([^>\n]+)>/gm)) out.add(m[1]!.trim());
  return [...out];
}

/**
 * Makes every kernel header name included by `sources` resolve: names missing from the include dirs get a
 * generic shim (vmlinux.h + the shared definitions) in the per-kernel cache. Returns the names created.
 * Headers mode: nothing to do (the real tree decides).
 */
export function ensureIncludeShims(kt: KernelTypes, sources: string | string[]): string[] {
  if (kt.mode !== "btf" || !kt.cacheEntry) return [];
  const created: string[] = [];
  const target = join(kt.cacheEntry, "include");
  for (const text of Array.isArray(sources) ? sources : [sources]) {
    for (const name of scanIncludes(text)) {
      if (!isKernelHeaderName(name)) continue;
      if (kt.includeDirs.some((d) => fs.existsSync(join(d, name)))) continue;
      const path = join(target, name);
      if (!path.startsWith(target + sep)) continue;
      const parts = name.split("/");
      const dir = privateSubdir(target, ...parts.slice(0, -1));
      const body = NET_PREFIXES.some((p) => name.startsWith(p)) ? "tsbcc/net-defs.h" : "tsbcc/kernel.h";
      writePrivateFile(join(dir, parts[parts.length - 1]!), `/* tsbcc: generic shim for <${name}> (not in the static shim tree). */\n#include <${body}>\n`);
      created.push(name);
    }
  }
  return created;
}

function isKernelHeaderName(name: string): boolean {
  if (!/^[A-Za-z0-9_][\w.+\-/]*\.h$/.test(name) || name.includes("..") || name.includes("//")) return false;
  return KERNEL_DIRS.has(name.split("/")[0]!) && name.includes("/");
}

// ---------------------------------------------------------------- headers mode

async function headersMode(opts: KernelTypesOptions): Promise<KernelTypes> {
  const release = kernelRelease();
  const modules = `/lib/modules/${release}`;
  const explicit = process.env.TSBCC_KERNEL_SOURCE ?? process.env.BCC_KERNEL_SOURCE;
  const build = explicit ?? join(modules, "build");
  if (!fs.existsSync(join(build, "include"))) {
    throw new TsbccError(ErrorCode.UNSUPPORTED,
      `kernel headers for ${release} not found: ${build}${explicit ? "" : " (from /lib/modules/$(uname -r)/build)"} ` +
        "does not exist or has no include/. Install the kernel development package for the running kernel " +
        `(Debian/Ubuntu: linux-headers-${release}; Fedora/RHEL: kernel-devel-${release}), set TSBCC_KERNEL_SOURCE, ` +
        "or unset TSBCC_KERNEL_HEADERS to use the kernel's BTF (/sys/kernel/btf/vmlinux) instead",
    );
  }
  // Debian/SUSE split the tree: generated headers in build/, the sources in source/.
  const source = !explicit && fs.existsSync(join(modules, "source", "include")) ? join(modules, "source") : undefined;
  const trees = source && fs.realpathSync(source) !== fs.realpathSync(build) ? [source, build] : [build];
  const arch = headersArch();
  const includeDirs: string[] = [];
  for (const rel of [`arch/${arch}/include`, `arch/${arch}/include/generated`, "include", `arch/${arch}/include/uapi`,
    `arch/${arch}/include/generated/uapi`, "include/uapi", "include/generated/uapi"]) {
    for (const t of trees) includeDirs.push(join(t, rel));
  }
  const kconfig = trees.map((t) => join(t, "include", "linux", "kconfig.h")).find((p) => fs.existsSync(p));
  if (!kconfig) throw new TsbccError(ErrorCode.UNSUPPORTED, `kernel headers at ${trees.join(" and ")} have no include/linux/kconfig.h: incomplete header package`);
  const clang = await clangInfo({ clang: opts.clang, stateDir: privateRoot(opts.cacheDir ?? defaultCacheRoot()) });
  const cflags = [
    "-target", "bpf", "-O2", "-nostdinc", "-isystem", join(clang.resourceDir, "include"),
    "-D__KERNEL__", "-D__BPF_TRACING__", "-DKBUILD_MODNAME=\"tsbcc\"", `-D__TARGET_ARCH_${targetArch()}`,
    "-Wno-unused-value", "-Wno-pointer-sign", "-Wno-gnu-variable-sized-type-not-at-end", "-Wno-address-of-packed-member",
    "-Wno-tautological-compare", "-Wno-unknown-warning-option", "-Wno-microsoft-anon-tag", "-fms-extensions",
    "-fno-stack-protector",
    // Our shim tree last: only <bcc/proto.h> (and other names the real tree lacks) resolve there.
    "-idirafter", SHIM_ROOT,
  ];
  const forceIncludes = [kconfig];
  const stampFile = ["include/generated/utsrelease.h", ".config", "Makefile"].map((f) => join(build, f)).find((p) => fs.existsSync(p));
  const identity = `headers:${fs.realpathSync(build)}:${stampFile ? fileStamp(stampFile) : "?"}:s${contentHash()}`;
  const args = [...cflags, ...includeDirs.flatMap((d) => ["-I", d]), ...forceIncludes.flatMap((f) => ["-include", f])];
  return { mode: "headers", includeDirs, forceIncludes, identity, cflags, args };
}

function headersArch(): string {
  const map: Record<string, string> = { x64: "x86", ia32: "x86", arm64: "arm64", arm: "arm", s390x: "s390", ppc64: "powerpc", riscv64: "riscv", loong64: "loongarch" };
  return map[process.arch] ?? process.arch;
}
