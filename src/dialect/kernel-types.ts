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

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { gunzipSync } from "node:zlib";
import { Btf } from "../btf/btf.js";
import { btfIdentity } from "../btf/identity.js";
import { printCHeader } from "../btf/c-printer.js";
import { tsbccIncludeDir } from "./clang.js";
import { defaultCacheRoot } from "./cache.js";
import { kernelRelease, linuxVersionCode, pageSize } from "../kernel/release.js";

export interface KernelTypesOptions {
  /** Use the real kernel headers (also `TSBCC_KERNEL_HEADERS=1`). */
  useKernelHeaders?: boolean;
  /** Cache root (default `$TSBCC_CACHE_DIR`, `$XDG_CACHE_HOME/tsbcc`, `/var/cache/tsbcc` as root, `~/.cache/tsbcc`). */
  cacheDir?: string;
  /** clang binary the compile will use (default `$TSBCC_CLANG`, /usr/bin/clang, `clang`); the PCH is built with it. */
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
export function kernelTypesInclude(opts: KernelTypesOptions = {}): Promise<KernelTypes> {
  const headers = opts.useKernelHeaders ?? process.env.TSBCC_KERNEL_HEADERS === "1";
  const key = JSON.stringify([headers, opts.cacheDir, opts.clang, opts.pch, opts.btfPath]);
  let p = memo.get(key);
  if (!p) {
    p = headers ? headersMode(opts) : btfMode(opts);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  if (!opts.sources?.length) return p;
  return p.then((kt) => (ensureIncludeShims(kt, opts.sources!), kt));
}

/** Forgets the per-process results (tests; or after the cache directory was changed behind our back). */
export function clearKernelTypesMemo(): void {
  memo.clear();
}

// ---------------------------------------------------------------- btf mode

async function btfMode(opts: KernelTypesOptions): Promise<KernelTypes> {
  const btfPath = opts.btfPath ?? DEFAULT_BTF;
  if (!fs.existsSync(btfPath)) {
    throw new Error(
      `kernel BTF not found at ${btfPath} (the kernel needs CONFIG_DEBUG_INFO_BTF=y); ` +
        "set TSBCC_KERNEL_HEADERS=1 to compile against /lib/modules/$(uname -r)/build instead",
    );
  }
  const root = privateDir(opts.cacheDir ?? defaultCacheRoot());
  const kernelRoot = privateDir(join(root, "kernel"), root);
  const btfId = btfIdentityFor(btfPath, kernelRoot);
  const entry = join(kernelRoot, `${btfId}-g${GENERATOR_VERSION}`);
  if (!validEntry(entry)) generateEntry(entry, btfPath);

  const clang = await clangInfo(opts.clang, entry);
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


// A directory only we can write: our own, not a symlink, no group/other access. Headers in it end up in
// programs loaded into the kernel, so one that someone else could have written is never trusted.
function isPrivateDir(path: string): boolean {
  try {
    const st = fs.lstatSync(path);
    return st.isDirectory() && st.uid === (process.geteuid?.() ?? st.uid) && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

// Creates `path` (0700) if needed. A bad directory inside a trusted parent is replaced; a bad root (someone
// else's, or open to others) is never used: we fall back to our own directory in the temp dir.
function privateDir(path: string, trustedParent?: string): string {
  if (isPrivateDir(path)) return path;
  if (fs.existsSync(path) || isSymlink(path)) {
    if (!trustedParent) return fallbackRoot(path);
    fs.rmSync(path, { recursive: true, force: true });
  }
  try {
    fs.mkdirSync(path, { recursive: true, mode: 0o700 });
    fs.chmodSync(path, 0o700);
  } catch {
    return trustedParent ? fs.mkdtempSync(join(trustedParent, "tmp-")) : fallbackRoot(path);
  }
  return isPrivateDir(path) ? path : fallbackRoot(path);
}

function fallbackRoot(rejected: string): string {
  const dir = join(tmpdir(), `tsbcc-${process.geteuid?.() ?? "user"}`);
  if (dir !== rejected) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch { /* exists: checked below */ }
    if (isPrivateDir(dir)) return dir;
  }
  return fs.mkdtempSync(join(tmpdir(), "tsbcc-"));
}

function isSymlink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
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
      const stamp = JSON.parse(fs.readFileSync(stampPath, "utf8")) as { key: string; id: string };
      if (stamp.key === stampKey && /^[\w-]+$/.test(stamp.id)) return stamp.id;
    } catch { /* absent or unreadable: recompute */ }
  }
  const id = btfIdentity(fs.readFileSync(btfPath), { full: true });
  if (bootId) writeAtomic(stampPath, JSON.stringify({ key: stampKey, id }));
  return id;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, path);
}

function validEntry(entry: string): boolean {
  if (!isPrivateDir(entry)) {
    if (fs.existsSync(entry) || isSymlink(entry)) fs.rmSync(entry, { recursive: true, force: true });
    return false;
  }
  try {
    const meta = JSON.parse(fs.readFileSync(join(entry, "meta.json"), "utf8")) as { generator?: number };
    return meta.generator === GENERATOR_VERSION && fs.existsSync(join(entry, "include", "vmlinux.h"));
  } catch {
    return false;
  }
}

// Everything is written to a temporary sibling and renamed into place, so a concurrent or interrupted
// run never sees a half-written entry.
function generateEntry(entry: string, btfPath: string): void {
  const tmp = `${entry}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  fs.mkdirSync(join(tmp, "include", "tsbcc"), { recursive: true, mode: 0o700 });
  fs.chmodSync(tmp, 0o700);
  try {
    const btf = Btf.parse(fs.readFileSync(btfPath));
    const started = process.hrtime.bigint();
    fs.writeFileSync(join(tmp, "include", "vmlinux.h"), printCHeader(btf));
    const printMs = Number(process.hrtime.bigint() - started) / 1e6;
    fs.writeFileSync(join(tmp, "include", "tsbcc", "kernel-config.h"), kernelConfigHeader());
    fs.writeFileSync(join(tmp, "include", "tsbcc", "btf-fallbacks.h"), btfFallbacksHeader(btf));
    const meta = { generator: GENERATOR_VERSION, btf: btfPath, release: kernelRelease(), printMs, created: new Date().toISOString() };
    fs.writeFileSync(join(tmp, "meta.json"), JSON.stringify(meta, null, 1));
    try {
      fs.renameSync(tmp, entry);
    } catch (err) {
      // Another process won the race: use its (complete) entry.
      if (!validEntry(entry)) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    removeStaleEntries(entry);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

// Entries of older generator versions for the same BTF, and temporaries of crashed runs, are dead weight
// (a few MB of header and ~13 MB of PCH each).
function removeStaleEntries(entry: string): void {
  const dir = dirname(entry);
  const base = entry.slice(dir.length + 1);
  const btfPart = base.replace(/-g\d+$/, "");
  const hourAgo = Date.now() - 3600_000;
  for (const name of fs.readdirSync(dir)) {
    const path = join(dir, name);
    const staleGen = name !== base && name.startsWith(`${btfPart}-g`) && /^[\w-]+-g\d+$/.test(name);
    let staleTmp = false;
    if (name.includes(".tmp-")) {
      try {
        staleTmp = fs.lstatSync(path).mtimeMs < hourAgo;
      } catch { /* gone */ }
    }
    if (staleGen || staleTmp) fs.rmSync(path, { recursive: true, force: true });
  }
}


/** libbpf's `__TARGET_ARCH_*` spelling of the host architecture. */
export function targetArch(): string {
  const map: Record<string, string> = {
    x64: "x86", ia32: "x86", arm64: "arm64", arm: "arm", s390x: "s390", ppc64: "powerpc", riscv64: "riscv",
    loong64: "loongarch", mips64el: "mips", mips: "mips",
  };
  return map[process.arch] ?? process.arch;
}


function readKernelConfig(release: string): string | undefined {
  try {
    return gunzipSync(new Uint8Array(fs.readFileSync("/proc/config.gz"))).toString("utf8");
  } catch { /* not built with IKCONFIG_PROC */ }
  try {
    return fs.readFileSync(`/boot/config-${release}`, "utf8");
  } catch {
    return undefined;
  }
}

/** `#define`s for a kernel .config text: =y -> 1, =m -> CONFIG_X_MODULE 1, strings and numbers verbatim. */
export function kconfigDefines(config: string): string[] {
  const out: string[] = [];
  for (const line of config.split("\n")) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    if (value === "y") out.push(`#define ${name} 1`);
    else if (value === "m") out.push(`#define ${name}_MODULE 1`);
    else if (/^"(?:[^"\\]|\\.)*"$/.test(value) || /^-?(0x[0-9a-fA-F]+|\d+)$/.test(value)) out.push(`#define ${name} ${value}`);
  }
  return out;
}

function kernelConfigHeader(): string {
  const release = kernelRelease();
  const [major, minor, patch] = (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release) ?? []).slice(1).map((x) => Number(x ?? 0));
  const lines = [
    "/* Generated by tsbcc for the running kernel: version, page size and its build configuration. */",
    "#ifndef __TSBCC_KERNEL_CONFIG_H", "#define __TSBCC_KERNEL_CONFIG_H",
    `#define LINUX_VERSION_CODE ${linuxVersionCode()}`,
    `#define LINUX_VERSION_MAJOR ${major ?? 0}`, `#define LINUX_VERSION_PATCHLEVEL ${minor ?? 0}`,
    `#define LINUX_VERSION_SUBLEVEL ${patch ?? 0}`,
    "#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))",
    `#define __TSBCC_KERNEL_RELEASE ${JSON.stringify(release)}`,
    `#define PAGE_SHIFT ${Math.log2(pageSize())}`,
  ];
  const config = readKernelConfig(release);
  if (config) {
    lines.push(...kconfigDefines(config));
    if (/^CONFIG_HZ=\d+$/m.test(config)) lines.push("#ifndef HZ", "#define HZ CONFIG_HZ", "#endif");
  }
  lines.push("#endif", "");
  return lines.join("\n");
}


// Constants that are enum members in some kernels' BTF and plain macros (or absent) in others. A macro is
// defined only when this BTF lacks the enumerator: re-defining a name vmlinux.h already declares would
// shadow it with a possibly different value.
const ENUM_FALLBACKS: [string, string][] = [
  ["TASK_COMM_LEN", "16"],
  ...([["IP", 0], ["ICMP", 1], ["IGMP", 2], ["IPIP", 4], ["TCP", 6], ["EGP", 8], ["PUP", 12], ["UDP", 17], ["IDP", 22],
    ["TP", 29], ["DCCP", 33], ["IPV6", 41], ["RSVP", 46], ["GRE", 47], ["ESP", 50], ["AH", 51], ["MTP", 92], ["BEETPH", 94],
    ["ENCAP", 98], ["PIM", 103], ["COMP", 108], ["L2TP", 115], ["SCTP", 132], ["UDPLITE", 136], ["MPLS", 137],
    ["ETHERNET", 143], ["RAW", 255], ["MPTCP", 262]] as const).map(([n, v]): [string, string] => [`IPPROTO_${n}`, String(v)]),
  ...["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
    "LISTEN", "CLOSING", "NEW_SYN_RECV"].map((s, i): [string, string] => [`TCP_${s}`, String(i + 1)]),
  ["SOCK_STREAM", "1"], ["SOCK_DGRAM", "2"], ["SOCK_RAW", "3"], ["SOCK_RDM", "4"], ["SOCK_SEQPACKET", "5"],
  ["SOCK_DCCP", "6"], ["SOCK_PACKET", "10"],
  ["BPF_ANY", "0"], ["BPF_NOEXIST", "1"], ["BPF_EXIST", "2"], ["BPF_F_LOCK", "4"],
  ["BPF_F_INDEX_MASK", "0xffffffffULL"], ["BPF_F_CURRENT_CPU", "BPF_F_INDEX_MASK"], ["BPF_F_CTXLEN_MASK", "(0xfffffULL << 32)"],
  ["BPF_F_SKIP_FIELD_MASK", "0xffULL"], ["BPF_F_USER_STACK", "(1ULL << 8)"], ["BPF_F_FAST_STACK_CMP", "(1ULL << 9)"],
  ["BPF_F_REUSE_STACKID", "(1ULL << 10)"], ["BPF_F_USER_BUILD_ID", "(1ULL << 11)"],
  ["BPF_F_NO_PREALLOC", "(1U << 0)"], ["BPF_F_NO_COMMON_LRU", "(1U << 1)"], ["BPF_F_NUMA_NODE", "(1U << 2)"],
  ["BPF_F_RDONLY", "(1U << 3)"], ["BPF_F_WRONLY", "(1U << 4)"], ["BPF_F_RDONLY_PROG", "(1U << 7)"],
  ["BPF_F_WRONLY_PROG", "(1U << 8)"], ["BPF_F_MMAPABLE", "(1U << 10)"],
  ["BPF_RB_NO_WAKEUP", "(1ULL << 0)"], ["BPF_RB_FORCE_WAKEUP", "(1ULL << 1)"],
  ["XDP_ABORTED", "0"], ["XDP_DROP", "1"], ["XDP_PASS", "2"], ["XDP_TX", "3"], ["XDP_REDIRECT", "4"],
];

// Typedefs BPF programs rely on; BTF holds a typedef only if some kernel type used it.
const TYPEDEF_FALLBACKS: [string, string][] = [
  ["__s8", "signed char"], ["__u8", "unsigned char"], ["__s16", "short"], ["__u16", "unsigned short"],
  ["__s32", "int"], ["__u32", "unsigned int"], ["__s64", "long long"], ["__u64", "unsigned long long"],
  ["s8", "__s8"], ["u8", "__u8"], ["s16", "__s16"], ["u16", "__u16"], ["s32", "__s32"], ["u32", "__u32"],
  ["s64", "__s64"], ["u64", "__u64"], ["int8_t", "__s8"], ["uint8_t", "__u8"], ["int16_t", "__s16"],
  ["uint16_t", "__u16"], ["int32_t", "__s32"], ["uint32_t", "__u32"], ["int64_t", "__s64"], ["uint64_t", "__u64"],
  ["__be16", "__u16"], ["__be32", "__u32"], ["__be64", "__u64"], ["__le16", "__u16"], ["__le32", "__u32"],
  ["__le64", "__u64"], ["__sum16", "__u16"], ["__wsum", "__u32"], ["size_t", "unsigned long"], ["ssize_t", "long"],
  ["uintptr_t", "unsigned long"], ["intptr_t", "long"], ["ptrdiff_t", "long"], ["bool", "_Bool"],
  ["pid_t", "int"], ["uid_t", "unsigned int"], ["gid_t", "unsigned int"], ["dev_t", "__u32"],
  ["umode_t", "unsigned short"], ["loff_t", "long long"], ["sector_t", "u64"], ["gfp_t", "unsigned int"],
];

/** Typedefs and constants the kernel's BTF does not carry, as a header (exported for tests). */
export function btfFallbacksHeader(btf: Btf): string {
  const lines = ["/* Generated by tsbcc: typedefs and constants this kernel's BTF does not carry. */"];
  for (const [name, type] of TYPEDEF_FALLBACKS) {
    if (!btf.findId("typedef", name)) lines.push(`typedef ${type} ${name};`);
  }
  for (const [name, value] of ENUM_FALLBACKS) {
    if (!btf.enumValue(name)) lines.push(`#ifndef ${name}`, `#define ${name} ${value}`, "#endif");
  }
  // DNAME_INLINE_LEN: the inline name array of struct dentry (d_iname, or d_shortname.string since 6.14).
  const inlineName = dentryInlineNameLen(btf);
  lines.push("#ifndef DNAME_INLINE_LEN", `#define DNAME_INLINE_LEN ${inlineName ?? 32}`, "#endif");
  // REQ_<FLAG> are macros over the enum req_flag_bits members __REQ_<FLAG>.
  const reqBits = btf.findByName("enum", "req_flag_bits");
  if (reqBits && reqBits.kind === "enum") {
    for (const v of reqBits.values) {
      const flag = v.name.replace(/^__REQ_/, "REQ_");
      if (flag === v.name || v.name === "__REQ_NR_BITS" || btf.enumValue(flag)) continue;
      lines.push(`#ifndef ${flag}`, `#define ${flag} (1ULL << ${v.name})`, "#endif");
    }
  }
  lines.push("");
  return lines.join("\n");
}

function dentryInlineNameLen(btf: Btf): number | undefined {
  const arrayLen = (typeId: number | undefined): number | undefined => {
    if (typeId === undefined) return undefined;
    const t = btf.type(btf.resolveId(typeId));
    return t.kind === "array" ? t.nelems : undefined;
  };
  const dentry = btf.findByName("struct", "dentry");
  if (dentry?.kind === "struct") {
    const iname = dentry.members.find((m) => m.name === "d_iname");
    if (iname) return arrayLen(iname.type);
  }
  const store = btf.findByName("union", "shortname_store");
  if (store?.kind === "union") return arrayLen(store.members.find((m) => m.name === "string")?.type);
  return undefined;
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

// ---------------------------------------------------------------- clang and the PCH

interface ClangInfo {
  path: string;
  /** Changes when the binary is replaced (a PCH only loads in the clang that wrote it). */
  fingerprint: string;
  resourceDir: string;
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) rej(Object.assign(err, { stderr }));
      else res({ stdout, stderr });
    });
  });
}

function defaultClang(): string {
  if (process.env.TSBCC_CLANG) return process.env.TSBCC_CLANG;
  return fs.existsSync("/usr/bin/clang") ? "/usr/bin/clang" : "clang";
}

function whichSync(cmd: string): string {
  if (cmd.includes("/")) return cmd;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = join(dir || ".", cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  throw new Error(`${cmd} not found in PATH (tsbcc needs clang to compile BPF programs; install clang)`);
}

async function clangInfo(clangOpt: string | undefined, entry: string): Promise<ClangInfo> {
  const path = fs.realpathSync(whichSync(clangOpt ?? defaultClang()));
  const st = fs.statSync(path);
  const fingerprint = `${path}:${st.size}:${st.mtimeMs}`;
  const cachePath = join(entry, "clang.json");
  try {
    const c = JSON.parse(fs.readFileSync(cachePath, "utf8")) as ClangInfo;
    if (c.fingerprint === fingerprint && fs.existsSync(c.resourceDir)) return c;
  } catch { /* first use of this clang */ }
  const { stdout } = await run(path, ["-print-resource-dir"]);
  const info = { path, fingerprint, resourceDir: stdout.trim() };
  writeAtomic(cachePath, JSON.stringify(info));
  return info;
}

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
  try {
    if (fs.readFileSync(stampPath, "utf8") === stamp && fs.existsSync(pch)) return pch;
  } catch { /* build it */ }
  const tmp = `${pch}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const args = [...cflags, ...includeDirs.flatMap((d) => ["-I", d]), "-x", "c-header", ...forceIncludes, "-o", tmp];
  try {
    await run(clang.path, args);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? "").split("\n").slice(0, 20).join("\n");
    throw new Error(`building the kernel-types precompiled header failed (${clang.path} ${args.join(" ")}):\n${stderr}`);
  }
  fs.renameSync(tmp, pch);
  writeAtomic(stampPath, stamp);
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
      fs.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const body = NET_PREFIXES.some((p) => name.startsWith(p)) ? "tsbcc/net-defs.h" : "tsbcc/kernel.h";
      writeAtomic(path, `/* tsbcc: generic shim for <${name}> (not in the static shim tree). */\n#include <${body}>\n`);
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
    throw new Error(
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
  if (!kconfig) throw new Error(`kernel headers at ${trees.join(" and ")} have no include/linux/kconfig.h: incomplete header package`);
  const clang = await clangInfo(opts.clang, privateDir(join(privateDir(opts.cacheDir ?? defaultCacheRoot()), "kernel")));
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
