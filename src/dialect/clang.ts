// The system clang, in one place: where it is, what it is (cached by binary identity), how it and its LLVM
// tools run, and how their failures read (a crash names its signal and carries clang's stderr).
//
// Kernel types reach clang as a module (`tsbcc_base` = vmlinux.h + include/tsbcc/base.h, built once per kernel
// BTF and header version into the module cache). This is what keeps both runs fast: parsing vmlinux.h (~3 MB)
// costs ~0.3 s per run, and an AST dump of a translation unit that *includes* it is hundreds of MB, while with
// the module the AST dump holds only the user's declarations (imported declarations are not in the TU).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, TsbccError } from "../errors.js";
import { readPrivateFile, writePrivateFileQuiet } from "../store/index.js";
import { bytesOf } from "./cache.js";

export interface ClangInfo {
  /** The clang command as found (TSBCC_CLANG, PATH). */
  path: string;
  realPath: string;
  /** First line of `clang --version`. */
  version: string;
  /** clang's resource directory (builtin headers such as stdarg.h live in <resourceDir>/include). */
  resourceDir: string;
  /** Changes when the binary is replaced (real path, size, mtime): a PCH only loads in the clang that wrote it. */
  fingerprint: string;
}

export interface RunResult {
  /** Exit status; -1 when killed by a signal. */
  code: number;
  /** The signal that killed it (e.g. "SIGSEGV"), or null. */
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** clang or an LLVM tool could not run, crashed, or failed without diagnostics to show. */
export class ClangError extends TsbccError {
  constructor(
    message: string,
    readonly tool: string,
    readonly signal: NodeJS.Signals | null = null,
    readonly exitCode: number | null = null,
    readonly stderr = "",
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.CLANG, message, options);
  }

  /** The error for a finished run that failed: `what` says what it was doing ("analyze", "codegen"). */
  static fromRun(tool: string, what: string, r: RunResult): ClangError {
    const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
    const err = r.stderr.trim();
    const tail = err ? `:\n${err.length > 4000 ? `${err.slice(0, 4000)}\n...` : err}` : " (no output on stderr)";
    return new ClangError(`tsbcc: ${tool} (${what}) ${how}${tail}`, tool, r.signal, r.signal ? null : r.code, r.stderr);
  }
}

/** The repository's include/ directory (dialect.h, base.h). */
export function tsbccIncludeDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/dialect (ts-node) or dist/src/dialect (compiled): walk up to the directory holding include/tsbcc.
  let dir = here;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "include", "tsbcc", "dialect.h"))) return join(dir, "include");
    dir = dirname(dir);
  }
  throw new TsbccError(ErrorCode.UNSUPPORTED, `tsbcc: include/tsbcc/dialect.h not found above ${here} (incomplete installation)`);
}

/** Where libbpf's bpf_helpers.h lives (Debian's libbpf-dev: /usr/include/bpf). */
export function libbpfIncludeDir(): string {
  for (const d of [process.env.TSBCC_LIBBPF_INCLUDE, "/usr/include", "/usr/local/include"]) {
    if (d && existsSync(join(d, "bpf", "bpf_helpers.h"))) return d;
  }
  throw new TsbccError(ErrorCode.UNSUPPORTED, "tsbcc: libbpf headers (bpf/bpf_helpers.h) not found; install libbpf-dev or set TSBCC_LIBBPF_INCLUDE");
}

/** The clang to run: `explicit`, else $TSBCC_CLANG, else `clang` on PATH, else /usr/bin/clang. */
export function findClang(explicit?: string): string {
  const chosen = explicit ?? process.env.TSBCC_CLANG;
  if (chosen) return chosen;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", "clang");
    if (existsSync(p)) return p;
  }
  if (existsSync("/usr/bin/clang")) return "/usr/bin/clang";
  throw new ClangError("tsbcc: clang not found in PATH (install clang, or set TSBCC_CLANG)", "clang");
}

/** Starts a child with umask 077, so what clang writes (module caches) is private like the rest of the cache. */
function spawnPrivate(cmd: string, args: string[], options: Parameters<typeof spawn>[2]): ReturnType<typeof spawn> {
  let old: number | undefined;
  try {
    old = process.umask(0o077);
  } catch {
    // worker threads cannot change the umask: clang's default modes (0644/0755) pass the checks as well
  }
  try {
    return spawn(cmd, args, options);
  } finally {
    if (old !== undefined) process.umask(old);
  }
}

/**
 * Runs a command, collecting stdout and stderr (a failure to start rejects with ClangError). With
 * `stdoutFile`, stdout goes straight to that file and is read back at the end: much cheaper than a pipe for
 * clang's 240 MB AST dumps with real kernel headers.
 */
export function run(cmd: string, args: string[], opts: { cwd?: string; stdoutFile?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const fd = opts.stdoutFile ? openSync(opts.stdoutFile, "w", 0o600) : undefined;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawnPrivate(cmd, args, { stdio: ["pipe", fd ?? "pipe", "pipe"], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(bytesOf(b)));
    child.stderr!.on("data", (b: Buffer) => err.push(bytesOf(b)));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(new ClangError(`tsbcc: cannot run ${cmd} (${e.code ?? e.message})`, cmd, null, null, "", { cause: e })));
    child.stdin!.on("error", () => undefined); // clang may exit before reading its (empty) stdin
    child.on("close", (code, signal) => {
      let stdout: Buffer;
      try {
        stdout = opts.stdoutFile ? readFileSync(opts.stdoutFile) : Buffer.concat(out);
      } catch (e) {
        reject(e);
        return;
      }
      resolvePromise({ code: code ?? -1, signal, stdout, stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin!.end();
  });
}

/** Runs and throws ClangError unless the command exits with status 0. */
export async function runChecked(cmd: string, args: string[], what: string, opts: { cwd?: string } = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw ClangError.fromRun(cmd, what, r);
  return r;
}

const memo = new Map<string, ClangInfo>();

/**
 * clang's version and resource dir. Spawns clang only when the binary changed since the last call (keyed by
 * its real path, mtime and size), remembered in memory and in `<stateDir>/clang-<hash>.json` if given
 * (`stateDir` must be a private directory: see src/store).
 */
export async function clangInfo(opts: { clang?: string; stateDir?: string } = {}): Promise<ClangInfo> {
  const path = findClang(opts.clang);
  let realPath: string;
  try {
    realPath = realpathSync(path);
  } catch {
    throw new ClangError(`tsbcc: clang not found at ${path} (install clang, or set TSBCC_CLANG)`, path);
  }
  const st = statSync(realPath);
  const fingerprint = `${realPath}:${st.size}:${st.mtimeMs}`;
  const hit = memo.get(`${path}\n${fingerprint}`);
  if (hit) return hit;
  const file = opts.stateDir ? join(opts.stateDir, `clang-${createHash("sha256").update(path).digest("hex").slice(0, 16)}.json`) : undefined;
  const saved = file ? readPrivateFile(file) : undefined;
  if (saved) {
    try {
      const e = JSON.parse(saved.toString("utf8")) as ClangInfo;
      if (e.fingerprint === fingerprint && e.path === path && existsSync(e.resourceDir)) {
        memo.set(`${path}\n${fingerprint}`, e);
        return e;
      }
    } catch {
      // fall through and ask clang
    }
  }
  const [v, r] = await Promise.all([runChecked(path, ["--version"], "--version"), runChecked(path, ["-print-resource-dir"], "-print-resource-dir")]);
  const entry: ClangInfo = {
    path, realPath, fingerprint,
    version: v.stdout.toString("utf8").split("\n")[0]!.trim(),
    resourceDir: resolve(r.stdout.toString("utf8").trim()),
  };
  memo.set(`${path}\n${fingerprint}`, entry);
  if (file) writePrivateFileQuiet(file, JSON.stringify(entry));
  return entry;
}

/** An LLVM tool of clang's own LLVM (same bin directory), else one on PATH; undefined if none. */
export function llvmTool(clang: ClangInfo, name: string, envOverride?: string): string | undefined {
  const candidates = [envOverride, join(dirname(clang.realPath), name),
    ...(process.env.PATH ?? "/usr/bin").split(":").map((d) => join(d || ".", name))];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Host-target IR -> BPF object: opt -O2 for the BPF triple, then llc. */
export async function retargetToBpf(clang: ClangInfo, bc: string, obj: string): Promise<void> {
  const opted = `${bc}.opt.bc`;
  await runChecked(llvmTool(clang, "opt") ?? "opt", ["-O2", "-mtriple=bpf-pc-linux", bc, "-o", opted], "retarget to BPF");
  await runChecked(llvmTool(clang, "llc") ?? "llc", ["-march=bpf", "-filetype=obj", opted, "-o", obj], "retarget to BPF");
}

/**
 * Drops DWARF from an object, keeping .BTF/.BTF.ext: DWARF is only the vehicle for BTF here and is 95% of the
 * object (~600 KB for a program that touches task_struct). Skipped when llvm-strip is not installed.
 */
export async function stripDebug(clang: ClangInfo, obj: string): Promise<void> {
  const strip = llvmTool(clang, "llvm-strip", process.env.TSBCC_LLVM_STRIP);
  if (strip) await runChecked(strip, ["--strip-debug", obj], "strip debug info");
}

/** Contents hash of the dialect headers (part of every cache key and of the module cache path). */
let headerHashMemo: string | undefined;
export function dialectHeaderHash(): string {
  if (headerHashMemo) return headerHashMemo;
  const inc = tsbccIncludeDir();
  const h = createHash("sha256");
  for (const f of ["dialect.h", "base.h"]) h.update(f).update(readFileSync(join(inc, "tsbcc", f), "latin1"), "latin1");
  headerHashMemo = h.digest("hex");
  return headerHashMemo;
}

/**
 * Identity of the compiler's own code (this directory's .js files: names, sizes, mtimes), so a changed rewriter
 * misses the cache even without a version bump. Stat only: reading the files would cost the warm path ~4 ms.
 */
let codeHashMemo: string | undefined;
export function compilerCodeHash(): string {
  if (codeHashMemo) return codeHashMemo;
  const dir = dirname(fileURLToPath(import.meta.url));
  const h = createHash("sha256");
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".js")).sort()) {
    const st = statSync(join(dir, f));
    h.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  codeHashMemo = h.digest("hex");
  return codeHashMemo;
}

/** Warnings BCC programs routinely trigger and BCC itself silences. */
export const QUIET_WARNINGS = [
  "-Wno-unused-value", "-Wno-pointer-sign", "-Wno-compare-distinct-pointer-types", "-Wno-gnu-variable-sized-type-not-at-end",
  "-Wno-address-of-packed-member", "-Wno-tautological-compare", "-Wno-unknown-warning-option", "-Wno-deprecated-declarations",
  "-Wno-microsoft-anon-tag", "-Wno-gnu-statement-expression", "-Wno-incompatible-pointer-types-discards-qualifiers",
  "-Wno-int-conversion", "-Wno-unused-variable",
];
