// The system clang: where it is, what it is (cached by binary mtime), how to run it.
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
import { bytesOf } from "./cache.js";

export interface ClangInfo {
  path: string;
  /** First line of `clang --version`. */
  version: string;
  /** clang's resource directory (builtin headers such as stdarg.h live in <resourceDir>/include). */
  resourceDir: string;
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
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
  throw new Error(`tsbcc: include/tsbcc/dialect.h not found above ${here}`);
}

/** Where libbpf's bpf_helpers.h lives (Debian's libbpf-dev: /usr/include/bpf). */
export function libbpfIncludeDir(): string {
  for (const d of [process.env.TSBCC_LIBBPF_INCLUDE, "/usr/include", "/usr/local/include"]) {
    if (d && existsSync(join(d, "bpf", "bpf_helpers.h"))) return d;
  }
  throw new Error("tsbcc: libbpf headers (bpf/bpf_helpers.h) not found; install libbpf-dev or set TSBCC_LIBBPF_INCLUDE");
}

export function findClang(): string {
  const env = process.env.TSBCC_CLANG;
  if (env) return env;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", "clang");
    if (existsSync(p)) return p;
  }
  throw new Error("tsbcc: clang not found in PATH (install clang, or set TSBCC_CLANG)");
}

/**
 * Runs a command, collecting stdout and stderr. With `stdoutFile`, stdout goes straight to that file and is read
 * back at the end: much cheaper than a pipe for clang's 240 MB AST dumps with real kernel headers.
 */
export function run(cmd: string, args: string[], cwd?: string, stdoutFile?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const fd = stdoutFile ? openSync(stdoutFile, "w", 0o600) : undefined;
    const child = spawn(cmd, args, { stdio: ["pipe", fd ?? "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    if (fd !== undefined) closeSync(fd);
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(bytesOf(b)));
    child.stderr!.on("data", (b: Buffer) => err.push(bytesOf(b)));
    child.on("error", reject);
    child.stdin!.on("error", () => undefined); // clang may exit before reading its (empty) stdin
    child.on("close", (code) => {
      let stdout: Buffer;
      try {
        stdout = stdoutFile ? readFileSync(stdoutFile) : Buffer.concat(out);
      } catch (e) {
        reject(e);
        return;
      }
      resolvePromise({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin!.end();
  });
}

interface ClangCacheEntry extends ClangInfo {
  realPath: string;
  mtimeMs: number;
  size: number;
}

const memo = new Map<string, ClangCacheEntry>();

/**
 * clang's version and resource dir. Spawns clang only when the binary changed since the last call (keyed by
 * its real path, mtime and size), remembered in memory and in `<stateDir>/clang-<hash>.json` if given.
 */
export async function clangInfo(stateDir?: string, readState?: (p: string) => string | undefined, writeState?: (p: string, data: string) => void): Promise<ClangInfo> {
  const path = findClang();
  const realPath = realpathSync(path);
  const st = statSync(realPath);
  const key = `${realPath}:${st.mtimeMs}:${st.size}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const file = stateDir ? join(stateDir, `clang-${createHash("sha256").update(realPath).digest("hex").slice(0, 16)}.json`) : undefined;
  if (file && readState) {
    const s = readState(file);
    if (s) {
      try {
        const e = JSON.parse(s) as ClangCacheEntry;
        if (e.realPath === realPath && e.mtimeMs === st.mtimeMs && e.size === st.size && e.path === path) {
          memo.set(key, e);
          return e;
        }
      } catch {
        // fall through and ask clang
      }
    }
  }
  const [v, r] = await Promise.all([run(path, ["--version"]), run(path, ["-print-resource-dir"])]);
  if (v.code !== 0) throw new Error(`tsbcc: ${path} --version failed: ${v.stderr}`);
  const entry: ClangCacheEntry = {
    path,
    realPath,
    mtimeMs: st.mtimeMs,
    size: st.size,
    version: v.stdout.toString("utf8").split("\n")[0]!.trim(),
    resourceDir: resolve(r.stdout.toString("utf8").trim()),
  };
  memo.set(key, entry);
  if (file && writeState) writeState(file, JSON.stringify(entry));
  return entry;
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
