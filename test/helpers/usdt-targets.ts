// Native targets for uprobe, USDT and perf-event tests, built with gcc at test time (cached by content): a
// program driven line by line over stdin ("c N" calls tsbcc_target N times, "f" fires the argument-forms probe,
// ...), a shared library with its own USDT probe, and generated programs that carry the USDT probes BCC's tools
// enable. Probes come from sys/sdt.h (systemtap-sdt-dev) with semaphores, plus one hand-written note whose
// argument string covers every x86-64 operand form.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { buildOnce } from "./build.js";

const dir = join(tmpdir(), "tsbcc-test-build");

export const haveSdt = existsSync("/usr/include/x86_64-linux-gnu/sys/sdt.h") || existsSync("/usr/include/sys/sdt.h");

/** Builds `source` with gcc (cached); `extra` adds flags; returns the output path. */
export function gccBuild(name: string, source: string, extra: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  const h = createHash("sha256").update(name).update(source).update(extra.join(" ")).digest("hex").slice(0, 12);
  const out = join(dir, `${name}-${h}${name.endsWith(".so") ? "" : ".bin"}`);
  const src = buildOnce(join(dir, `${name}-${h}.c`), (tmp) => writeFileSync(tmp, source));
  return buildOnce(out, (tmp) => execFileSync("gcc", ["-O1", "-g", "-fno-omit-frame-pointer", "-o", tmp, src, ...extra], { stdio: ["ignore", "ignore", "pipe"] }));
}

/** Expected values of the "tsbcc:forms" probe's 14 arguments, in order (see FORMS_ARGS). */
export const FORMS_EXPECTED: bigint[] = [
  0x1122334455667788n, 0x55667788n, 0x7788n, -120n, 0x77n, -5n, -5n, 100n, -200n, 0x7fffffffffffffffn, 300n, 300n, -42n, 4660n,
];
const FORMS_ARGS = "8@%%rax 4@%%eax -2@%%ax -1@%%al 1@%%ah -4@%%r9d -8@%%r9 8@(%%rbx) -8@8(%%rbx) 8@8(%%rbx,%%rcx,8) " +
  "-4@16(%%rbx) 8@tsbcc_mem+16(%%rip) -4@$-42 8@$4660";

const LIB_SOURCE = String.raw`
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
__extension__ unsigned short tsbcc_lib_hello_semaphore __attribute__((unused)) __attribute__((section(".probes")));
long tsbcc_lib_hello(long x) { STAP_PROBE1(tsbcc_lib, hello, x * 10); return x + 1; }
`;

const TARGET_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
__extension__ unsigned short tsbcc_tick_semaphore __attribute__((unused)) __attribute__((section(".probes")));
long tsbcc_mem[4] = { 100, -200, 300, 0x7fffffffffffffffL };
long tsbcc_lib_hello(long x);
__attribute__((noinline)) long tsbcc_target(long x) { __asm__ volatile(""); return x * 3 - 7; }
__attribute__((noinline)) void tsbcc_forms(void) {
  __asm__ __volatile__(
    ".ifndef _.stapsdt.base\n.pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
    ".weak _.stapsdt.base\n.hidden _.stapsdt.base\n_.stapsdt.base: .space 1\n.size _.stapsdt.base, 1\n.popsection\n.endif\n"
    "movabsq $0x1122334455667788, %%rax\nmovq $-5, %%r9\nleaq tsbcc_mem(%%rip), %%rbx\nmovq $2, %%rcx\n"
    "990: nop\n.pushsection .note.stapsdt,\"\",\"note\"\n.balign 4\n.4byte 992f-991f, 994f-993f, 3\n"
    "991: .asciz \"stapsdt\"\n992: .balign 4\n993: .8byte 990b, _.stapsdt.base, 0\n"
    ".asciz \"tsbcc\"\n.asciz \"forms\"\n.asciz \"${FORMS_ARGS}\"\n994: .balign 4\n.popsection\n"
    ::: "rax", "rbx", "rcx", "r9", "memory");
}
/* Spins for ms of its own CPU time (not wall time): a sampler of this task sees as many samples on a loaded machine. */
__attribute__((noinline)) long tsbcc_spin(long ms) {
  struct timespec a, b; long x = 0;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  do { for (int i = 0; i < 100000; i++) x += i ^ (x >> 3); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b); }
  while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
  return x;
}
int main(void) {
  char line[64]; long fired = 0;
  pid_t (*volatile ppid)(void) = getppid;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  while (fgets(line, sizeof line, stdin)) {
    long n = atol(line + 2), s = 0;
    switch (line[0]) {
    case 'c': for (long i = 0; i < n; i++) s += tsbcc_target(i); break;
    case 'u': for (long i = 0; i < n; i++) if (__builtin_expect(tsbcc_tick_semaphore, 0)) { fired++; STAP_PROBE2(tsbcc, tick, i, 1); } s = fired; break;
    case 'v': for (long i = 0; i < n; i++) if (__builtin_expect(tsbcc_tick_semaphore, 0)) { fired++; STAP_PROBE2(tsbcc, tick, i, 2); } s = fired; break;
    case 'l': for (long i = 0; i < n; i++) s += tsbcc_lib_hello(i); break;
    case 'p': for (long i = 0; i < n; i++) s += ppid(); break;
    case 'f': tsbcc_forms(); break;
    case 'b': s = tsbcc_spin(n) != 0; break;
    case 's': s = tsbcc_tick_semaphore; break;
    case 'q': return 0;
    }
    printf("%ld\n", s);
  }
  return 0;
}
`;

/** The shared library (tsbcc_lib:hello probe) and the target program linked to it. */
export function buildTargets(): { lib: string; target: string } {
  const lib = gccBuild("libtsbccprobe.so", LIB_SOURCE, ["-shared", "-fPIC"]);
  const libDir = join(dir, `libdir-${createHash("sha256").update(lib).digest("hex").slice(0, 8)}`);
  mkdirSync(libDir, { recursive: true });
  const link = join(libDir, "libtsbccprobe.so");
  buildOnce(link, (tmp) => copyFileSync(lib, tmp));
  const target = gccBuild("usdt-target", TARGET_SOURCE,
    ["-fPIE", "-pie", `-L${libDir}`, `-Wl,-rpath,${libDir}`, "-ltsbccprobe"]);
  return { lib: link, target };
}

/** A running target: `send("c 10")` writes a command and resolves with the number it printed. */
export interface Target {
  child: ChildProcess;
  pid: number;
  send(cmd: string): Promise<bigint>;
  stop(): Promise<void>;
}

export async function startTarget(bin: string, args: string[] = []): Promise<Target> {
  const child = spawn(bin, args, { stdio: ["pipe", "pipe", "inherit"] });
  if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${bin} exited`);
    return r.value;
  };
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await next(); // "ready": the libraries are mapped
  return {
    child,
    pid: child.pid,
    async send(cmd) {
      child.stdin!.write(`${cmd}\n`);
      return BigInt(await next());
    },
    async stop() {
      if (child.exitCode === null) child.stdin!.end("q\n");
      await exited;
    },
  };
}

/**
 * A program carrying sys/sdt.h probes `names` (provider "tsbcc", each with a semaphore and six arguments: two
 * strings, their lengths, a pointer and an int, in registers and memory as the compiler likes), which fires
 * each probe `argv[1]` times when its semaphore is set. BCC's USDT tools bind these names.
 */
export function buildProbeTarget(names: string[]): string {
  const uniq = [...new Set(names)].sort();
  for (const n of uniq) if (!/^[A-Za-z_]\w*$/.test(n)) throw new Error(`not a probe name: ${n}`);
  const sems = uniq.map((n) => `__extension__ unsigned short tsbcc_${n}_semaphore __attribute__((unused)) __attribute__((section(".probes")));`);
  const fires = uniq.map((n) => `    if (__builtin_expect(tsbcc_${n}_semaphore, 0)) STAP_PROBE6(tsbcc, ${n}, cls, (long)strlen(cls), meth, (long)strlen(meth), &cls, i);`);
  const source = [
    "#include <stdlib.h>", "#include <string.h>", "#define _SDT_HAS_SEMAPHORES 1", "#include <sys/sdt.h>", ...sems,
    "int main(int argc, char **argv) {",
    "  const char *cls = \"java/lang/Thread\", *meth = \"run\";",
    "  int n = argc > 1 ? atoi(argv[1]) : 0;",
    "  for (int i = 0; i < n; i++) {", ...fires, "  }", "  return 0;", "}", "",
  ].join("\n");
  return gccBuild("probe-target", source);
}

/** A shared library linked at 0x2000000 (-Ttext-segment), so its symbols' addresses and file offsets differ. */
export function buildRelocatedLib(): string {
  return gccBuild("librelocated.so", "__attribute__((noinline)) long tsbcc_reloc(long x) { __asm__ volatile(\"\"); return x + 1; }\n",
    ["-shared", "-fPIC", "-Wl,-Ttext-segment=0x2000000"]);
}

/** A program that dlopens `lib` and calls tsbcc_reloc N times per "c N" line. */
export function buildDlopenTarget(): string {
  const source = [
    "#include <dlfcn.h>", "#include <stdio.h>", "#include <stdlib.h>",
    "int main(int argc, char **argv) {",
    "  void *h = dlopen(argv[1], RTLD_NOW); if (!h) return 2;",
    "  long (*f)(long) = (long (*)(long))dlsym(h, \"tsbcc_reloc\"); char line[64];",
    "  setvbuf(stdout, NULL, _IOLBF, 0); printf(\"ready\\n\");",
    "  while (fgets(line, sizeof line, stdin)) { long n = atol(line + 2), s = 0; if (line[0] == 'q') return 0;",
    "    for (long i = 0; i < n; i++) s += f(i); printf(\"%ld\\n\", s); }",
    "  return 0;", "}", "",
  ].join("\n");
  return gccBuild("dlopen-target", source, ["-ldl"]);
}
