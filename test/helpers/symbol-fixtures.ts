// Native fixtures for the symbolization tests, built at test time with gcc/g++/objcopy/strip/xz: a frame-pointer
// program with a known call chain, a C++ program with mangled names, and stripped copies whose symbols live in a
// build-id debug file, a .gnu_debuglink file, or MiniDebugInfo. Built into a fresh temp folder per call.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElfFile } from "../../src/elf/index.js";
import { hasTool } from "./build.js";

/** Why the fixtures cannot be built here, or false when they can. */
export const fixtureSkip = ["gcc", "g++", "objcopy", "strip", "xz"].find((t) => !hasTool(t)) ?? false;

/**
 * main -> tsbcc_level_a -> tsbcc_level_b -> tsbcc_level_c, which makes `argv[1]` getppid syscalls after stdin with
 * the syscall instruction itself (through libc's syscall(), whose frame has no frame pointer, level_c would be skipped).
 */
export const CHAIN = ["tsbcc_level_c", "tsbcc_level_b", "tsbcc_level_a", "main"];

const CHAIN_SOURCE = `#include <unistd.h>
#include <stdlib.h>
#include <sys/syscall.h>
__attribute__((noinline)) long tsbcc_level_c(long n) { long s = 0; for (long i = 0; i < n; i++) { long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory"); s += r; } return s; }
__attribute__((noinline)) long tsbcc_level_b(long n) { return tsbcc_level_c(n) + 1; }
__attribute__((noinline)) long tsbcc_level_a(long n) { return tsbcc_level_b(n) + 1; }
int main(int argc, char **argv) { char c; long n = argc > 1 ? atol(argv[1]) : 1;
  if (read(0, &c, 1) < 0) return 2; return tsbcc_level_a(n) > 0 ? 0 : 1; }
`;

const CXX_SOURCE = `#include <cstdio>
namespace tsbcc { struct Widget { int spin(int n); }; }
__attribute__((noinline)) int tsbcc::Widget::spin(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; }
int main(int argc, char **) { tsbcc::Widget w; std::printf("%d\\n", w.spin(argc)); return 0; }
`;

export interface Fixtures {
  dir: string;
  /** Frame-pointer chain program with its symbols. */
  chain: string;
  /** The same program stripped; its symbols are only in `<debugRoot>/.build-id/xx/yyyy.debug`. */
  strippedByBuildId: string;
  debugRoot: string;
  /** Stripped, with a .gnu_debuglink to `<dir>/.debug/<name>.debug` (no build-id). */
  strippedByLink: string;
  /** Stripped, with a MiniDebugInfo section (xz-compressed .symtab) and no build-id. */
  strippedMini: string;
  /** Stripped completely: only .dynsym remains. */
  strippedBare: string;
  /** C++ program (mangled names). */
  cxx: string;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
}

export function buildFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-sym-"));
  const src = join(dir, "chain.c");
  writeFileSync(src, CHAIN_SOURCE);
  const chain = join(dir, "chain");
  run("gcc", ["-O0", "-fno-omit-frame-pointer", "-g", "-Wl,--build-id", "-o", chain, src]);

  // Build-id debug file under a private debug root.
  const debugRoot = join(dir, "debug-root");
  const buildId = ElfFile.open(chain).buildId()!;
  const idDir = join(debugRoot, ".build-id", buildId.slice(0, 2));
  mkdirSync(idDir, { recursive: true });
  run("objcopy", ["--only-keep-debug", chain, join(idDir, `${buildId.slice(2)}.debug`)]);
  const strippedByBuildId = join(dir, "chain-stripped");
  run("strip", ["--strip-all", "-o", strippedByBuildId, chain]);

  // .gnu_debuglink without a build-id (so only the link can find it).
  const noId = join(dir, "chain-noid");
  run("gcc", ["-O0", "-fno-omit-frame-pointer", "-g", "-Wl,--build-id=none", "-o", noId, src]);
  mkdirSync(join(dir, ".debug"));
  const linkDebug = join(dir, ".debug", "chain-link.debug");
  run("objcopy", ["--only-keep-debug", noId, linkDebug]);
  const strippedByLink = join(dir, "chain-link");
  run("strip", ["--strip-all", "-o", strippedByLink, noId]);
  run("objcopy", [`--add-gnu-debuglink=${linkDebug}`, strippedByLink]);

  // MiniDebugInfo: the symbol table alone, xz-compressed into .gnu_debugdata.
  const mini = join(dir, "mini.elf");
  run("objcopy", ["--only-keep-debug", noId, join(dir, "mini.full")]);
  run("objcopy", ["--strip-debug", "--remove-section=.comment", join(dir, "mini.full"), mini]);
  run("xz", ["-f", "-k", mini]);
  const strippedMini = join(dir, "chain-mini");
  run("strip", ["--strip-all", "-o", strippedMini, noId]);
  run("objcopy", [`--add-section=.gnu_debugdata=${mini}.xz`, strippedMini]);

  const strippedBare = join(dir, "chain-bare");
  copyFileSync(strippedByLink, strippedBare);
  run("objcopy", ["--remove-section=.gnu_debuglink", strippedBare]);

  const cxxSrc = join(dir, "widget.cc");
  writeFileSync(cxxSrc, CXX_SOURCE);
  const cxx = join(dir, "widget");
  run("g++", ["-O1", "-fno-omit-frame-pointer", "-o", cxx, cxxSrc]);
  return { dir, chain, strippedByBuildId, debugRoot, strippedByLink, strippedMini, strippedBare, cxx };
}

/** Link-time address of `name` in the symbol table of `path` (read with our ELF reader, not the code under test). */
export function symbolAddress(path: string, name: string): bigint {
  const sym = ElfFile.parse(new Uint8Array(readFileSync(path))).functionSymbols().find((s) => s.name === name);
  if (!sym) throw new Error(`${name} not in ${path}`);
  return sym.value;
}
