// Test fixtures built at test time with the system toolchain: BPF objects (clang -target bpf) and tiny native
// load generators (gcc). Results are cached by content so repeated runs are fast.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = join(tmpdir(), "tsbcc-test-build");

export function hasTool(tool: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
export const haveClang = hasTool("clang");

/**
 * A program a test needs from a package scripts/setup.sh installs. Missing, the test file fails at once, naming the
 * package: a skip would hide a missing install step (tests skip only for what the kernel lacks).
 */
export function requireTool(tool: string, pkg: string): void {
  if (!hasTool(tool)) throw new Error(`${tool} is needed: install the Debian package ${pkg} (scripts/setup.sh does)`);
}
export const haveGcc = hasTool("gcc");

/**
 * Builds `out` through a private temporary name and renames it into place: another test run on the same machine
 * (same /tmp) never sees, runs or loads a half-written file, and two runs building at once both end with a whole one.
 */
export function buildOnce(out: string, build: (tmp: string) => void): string {
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    build(tmp);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return out;
}

function cached(ext: string, source: string, build: (src: string, out: string) => void): string {
  mkdirSync(dir, { recursive: true });
  const h = createHash("sha256").update(ext).update(source).digest("hex").slice(0, 16);
  const src = buildOnce(join(dir, `${h}.${ext === "o" ? "c" : "src.c"}`), (tmp) => writeFileSync(tmp, source));
  return buildOnce(join(dir, `${h}.${ext}`), (tmp) => build(src, tmp));
}

/** Compiles libbpf-style C to a BPF object; returns its bytes. */
export function bpfObject(source: string): Uint8Array {
  const out = cached("o", source, (src, o) => {
    execFileSync("clang", ["-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu", "-c", src, "-o", o], { stdio: ["ignore", "ignore", "pipe"] });
  });
  return new Uint8Array(readFileSync(out));
}

/**
 * A native program that waits for one byte on stdin, then makes `count` calls of the syscall `name`
 * (getppid, getpid, ...) through syscall(2), so the count is exact (no libc caching, no runtime noise).
 */
export function syscallLoop(name = "getppid"): string {
  const source = `#include <unistd.h>\n#include <stdlib.h>\n#include <sys/syscall.h>\n` +
    `int main(int argc, char **argv) { long n = argc > 1 ? atol(argv[1]) : 1; char c; ` +
    `if (read(0, &c, 1) < 0) return 2; for (long i = 0; i < n; i++) syscall(SYS_${name}); return 0; }\n`;
  return cached("bin", source, (src, o) => execFileSync("gcc", ["-O1", "-o", o, src], { stdio: ["ignore", "ignore", "pipe"] }));
}

/**
 * A native program that waits for one byte on stdin, then opens each path of its argv read-only in order and
 * prints "<fd> <errno>" per path (fd -1 on failure), so a test can compare with what a probe saw.
 */
export function openFiles(): string {
  const source = `#include <unistd.h>\n#include <stdio.h>\n#include <fcntl.h>\n#include <errno.h>\n` +
    `int main(int argc, char **argv) { char c; if (read(0, &c, 1) < 0) return 2; ` +
    `for (int i = 1; i < argc; i++) { errno = 0; int fd = open(argv[i], O_RDONLY); printf("%d %d\\n", fd, fd < 0 ? errno : 0); } ` +
    `return 0; }\n`;
  return cached("bin", source, (src, o) => execFileSync("gcc", ["-O1", "-o", o, src], { stdio: ["ignore", "ignore", "pipe"] }));
}
