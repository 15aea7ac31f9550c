// Native targets for the user-space tracing tools' tests (profile, offcputime, stackcount, funccount, ...), built
// at test time with gcc -O0 -fno-omit-frame-pointer (so frame-pointer stack walks reach every function) into a
// cache folder. Each waits for one byte on stdin before doing its work, so a tool can attach first.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildOnce } from "./build.js";

const dir = join(tmpdir(), "tsbcc-usertrace-targets");

/** Builds `source` (C) once; returns the binary's path. The file name is `name` so comm shows it. */
export function buildTarget(name: string, source: string, libs: string[] = []): string {
  const h = createHash("sha256").update(source).update(libs.join(" ")).digest("hex").slice(0, 12);
  const folder = join(dir, h);
  const out = join(folder, name);
  mkdirSync(folder, { recursive: true });
  const src = buildOnce(join(folder, `${name}.c`), (tmp) => writeFileSync(tmp, source));
  return buildOnce(out, (tmp) => {
    execFileSync("gcc", ["-O0", "-fno-omit-frame-pointer", "-o", tmp, src, ...libs], { stdio: ["ignore", "ignore", "pipe"] });
  });
}

const WAIT = `static void wait_go(void) { char c; if (read(0, &c, 1) < 0) _exit(2); }`;

/**
 * Spins in tsbcc_hot_spin for argv[1] ms of its own CPU time (and briefly in tsbcc_cold_path): profile's hot
 * function. CPU time, not wall time: a sampler sees as many samples when the machine is loaded (it just takes longer).
 */
export const hotSpin = (): string => buildTarget("tsbcchot", `#include <unistd.h>
#include <stdlib.h>
#include <time.h>
${WAIT}
volatile unsigned long sink;
static long now_ms(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1000 + t.tv_nsec / 1000000; }
__attribute__((noinline)) void tsbcc_cold_path(void) { for (int i = 0; i < 1000; i++) sink += i; }
__attribute__((noinline)) void tsbcc_hot_spin(long ms) { long end = now_ms() + ms; while (now_ms() < end) for (int i = 0; i < 100000; i++) sink += i; }
int main(int argc, char **argv) { wait_go(); tsbcc_hot_spin(atol(argv[1])); tsbcc_cold_path(); return 0; }
`);

/** Sleeps argv[2] times for argv[1] ms inside tsbcc_nap <- tsbcc_sleepy_caller: offcputime's stack. */
export const sleeper = (): string => buildTarget("tsbccnap", `#include <unistd.h>
#include <stdlib.h>
${WAIT}
__attribute__((noinline)) void tsbcc_nap(long ms) { usleep(ms * 1000); }
__attribute__((noinline)) void tsbcc_sleepy_caller(long ms, long n) { for (long i = 0; i < n; i++) tsbcc_nap(ms); }
int main(int argc, char **argv) { wait_go(); tsbcc_sleepy_caller(atol(argv[1]), atol(argv[2])); return 0; }
`);

/**
 * Calls tsbcc_work(i, i * 10) argv[1] times (i = 1..N) from tsbcc_driver, each call sleeping argv[2] microseconds
 * inside it, then getpid() (libc, a real syscall each time) and fires the USDT probe tsbcc:work(i, i * 10): the
 * target of funccount/funclatency/stackcount/trace/argdist. tsbcc_work returns i + 1.
 */
export const caller = (): string => buildTarget("tsbcccall", `#include <unistd.h>
#include <stdlib.h>
#include <sys/sdt.h>
${WAIT}
__attribute__((noinline)) long tsbcc_work(long a, long b, long us) { if (us) usleep(us); return a + 1 + (b - b); }
__attribute__((noinline)) void tsbcc_driver(long n, long us) {
  for (long i = 1; i <= n; i++) { tsbcc_work(i, i * 10, us); getpid(); STAP_PROBE2(tsbcc, work, i, i * 10); }
}
int main(int argc, char **argv) { wait_go(); tsbcc_driver(atol(argv[1]), argc > 2 ? atol(argv[2]) : 0); return 0; }
`);

/** Leaks argv[1] blocks of argv[2] bytes from tsbcc_leaky (and frees as many it allocates elsewhere), then waits. */
export const leaker = (): string => buildTarget("tsbccleak", `#include <unistd.h>
#include <stdlib.h>
#include <string.h>
${WAIT}
void *keep[4096];
__attribute__((noinline)) void tsbcc_leaky(long n, long size) { for (long i = 0; i < n; i++) { keep[i] = malloc(size); memset(keep[i], 1, size); } }
__attribute__((noinline)) void tsbcc_tidy(long n) { for (long i = 0; i < n; i++) { void *p = malloc(777); free(p); } }
int main(int argc, char **argv) { wait_go(); tsbcc_leaky(atol(argv[1]), atol(argv[2])); tsbcc_tidy(50); wait_go(); return 0; }
`);

/** getaddrinfo(argv[1]) once, after stdin: gethostlatency's lookup. */
export const resolver = (): string => buildTarget("tsbccdns", `#include <unistd.h>
#include <netdb.h>
#include <string.h>
${WAIT}
int main(int argc, char **argv) { struct addrinfo hints, *res; wait_go(); memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC; int rc = getaddrinfo(argv[1], NULL, &hints, &res); if (rc == 0) freeaddrinfo(res); return rc == 0 ? 0 : 1; }
`);

function bpfProgFds(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:bpf-prog") n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/**
 * For tools that print nothing before their end (-f): resolves once this process holds more BPF programs than
 * `before` (the tool compiled and loaded; it attaches in the same turn), plus a short margin.
 */
export async function loadedSince(before: number, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (bpfProgFds() <= before && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
}

/** The current count, to pass to loadedSince. */
export const progCount = bpfProgFds;

/**
 * A USDT probe in a shared library: libtsbccprobe.so's tsbcc_lib_step(i) fires tsbcclib:step(i, -7 * i) (a signed
 * 4-byte second argument); the executable tsbcclibcall (rpath to the library) calls it argv[1] times, i = 1..N,
 * after a byte on stdin. Returns { exe, lib }.
 */
export function usdtLibCaller(): { exe: string; lib: string } {
  const libSource = `#include <sys/sdt.h>
__attribute__((noinline)) void tsbcc_lib_step(long i) { int neg = (int)(-7 * i); STAP_PROBE2(tsbcclib, step, i, neg); }
`;
  const exeSource = `#include <unistd.h>
#include <stdlib.h>
${WAIT}
void tsbcc_lib_step(long i);
int main(int argc, char **argv) { wait_go(); for (long i = 1; i <= atol(argv[1]); i++) tsbcc_lib_step(i); return 0; }
`;
  const h = createHash("sha256").update(libSource).update(exeSource).digest("hex").slice(0, 12);
  const folder = join(dir, `lib-${h}`);
  mkdirSync(folder, { recursive: true });
  const gcc = (args: string[]): void => void execFileSync("gcc", args, { stdio: ["ignore", "ignore", "pipe"] });
  const probeC = buildOnce(join(folder, "probe.c"), (tmp) => writeFileSync(tmp, libSource));
  const mainC = buildOnce(join(folder, "main.c"), (tmp) => writeFileSync(tmp, exeSource));
  // The library first, under its final name: the executable links against it by that name.
  const lib = buildOnce(join(folder, "libtsbccprobe.so"), (tmp) => gcc(["-O0", "-fno-omit-frame-pointer", "-shared", "-fPIC", "-o", tmp, probeC]));
  const exe = buildOnce(join(folder, "tsbcclibcall"), (tmp) =>
    gcc(["-O0", "-fno-omit-frame-pointer", "-o", tmp, mainC, `-L${folder}`, "-ltsbccprobe", `-Wl,-rpath,${folder}`]));
  return { exe, lib };
}

/** Waits until `pid` has mapped a file whose path ends with `suffix` (the dynamic linker runs before main). */
export async function mapped(pid: number, suffix: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").some((l) => l.endsWith(suffix))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${suffix} never mapped in ${pid}`);
}
