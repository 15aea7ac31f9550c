// npm run bench:startup — compile + load + attach, then exit, for an execve snooper that includes
// linux/sched.h and reads t->real_parent->tgid; tsbcc cold (empty cache) and warm, and real BCC, side by side.
// Reports the median of 5 runs: wall time and peak RSS. "first start" also generates this kernel's type header
// and its precompiled header (once per kernel); "cold compile" runs clang with those ready; "warm" runs no clang.
// BCC needs kernel headers: on Debian, linux-headers-amd64 plus /lib/modules/$(uname -r)/{build,source} links.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { SNOOPER } from "./startup-program.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS ?? 5);

interface Sample { wall: number; rssMiB: number }

function once(cmd: string, args: string[], env: NodeJS.ProcessEnv): Sample | string {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) return (r.stderr || r.stdout || `exit ${r.status}`).trim().split("\n").slice(-3).join(" | ");
  const m = /maxrss_kib (\d+)/.exec(r.stdout);
  return { wall, rssMiB: m ? Number(m[1]) / 1024 : NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function series(name: string, make: () => { cmd: string; args: string[]; env: NodeJS.ProcessEnv; cleanup?: () => void }): { name: string; wall?: number; rss?: number; error?: string } {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = make();
    const s = once(run.cmd, run.args, run.env);
    run.cleanup?.();
    if (typeof s === "string") return { name, error: s };
    samples.push(s);
  }
  return { name, wall: median(samples.map((s) => s.wall)), rss: median(samples.map((s) => s.rssMiB)) };
}

// The bundled child (what the `tsbcc` command runs); TSBCC_BENCH_UNBUNDLED=1 measures the plain module tree.
const child = process.env.TSBCC_BENCH_UNBUNDLED ? join(here, "startup-child.js") : join(here, "..", "src", "cli", "startup-bench-child.mjs");
const warmCache = mkdtempSync(join(tmpdir(), "tsbcc-bench-warm-"));
// Fill the warm cache once.
spawnSync(process.execPath, [child], { env: { ...process.env, TSBCC_CACHE_DIR: warmCache } });

const results = [
  series("tsbcc first start (no cache)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbcc-bench-cold-"));
    return { cmd: process.execPath, args: [child], env: { ...process.env, TSBCC_CACHE_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }),
  series("tsbcc cold compile", () => ({
    cmd: process.execPath, args: [child], env: { ...process.env, TSBCC_CACHE_DIR: warmCache, TSBCC_BENCH_SALT: String(Math.random()) },
  })),
  series("tsbcc warm (cached)", () => ({ cmd: process.execPath, args: [child], env: { ...process.env, TSBCC_CACHE_DIR: warmCache } })),
  series("BCC (python3-bpfcc)", () => ({
    cmd: "/usr/bin/python3",
    args: ["-c", "import sys, resource\nfrom bcc import BPF\nb = BPF(text=sys.argv[1])\nb.cleanup()\nprint('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)", SNOOPER],
    env: process.env,
  })),
];
rmSync(warmCache, { recursive: true, force: true });

const bcc = results[results.length - 1];
console.log(`startup: compile + load + attach an execve snooper (median of ${RUNS})`);
console.log("consumer                      wall (s)   peak RSS (MiB)   wall vs BCC");
for (const r of results) {
  if (r.error) {
    console.log(`${r.name.padEnd(29)} failed: ${r.error}`);
    continue;
  }
  const ratio = bcc.wall && r !== bcc ? `BCC time / ours = ${(bcc.wall / r.wall!).toFixed(2)}` : "";
  console.log(`${r.name.padEnd(29)} ${r.wall!.toFixed(3).padStart(8)}   ${r.rss!.toFixed(0).padStart(14)}   ${ratio}`);
}
