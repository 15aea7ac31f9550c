// npm run bench:uprobes — uprobes and USDT side by side with BCC (python3-bpfcc), on the gcc-built test target:
//   attach   : attach + detach a uprobe on every libc function matching "str.*" (symbol lookup + PMU events)
//   uprobe   : ns per call of a function with a counting uprobe (the target calls it N times)
//   usdt     : ns per hit of a semaphore-guarded USDT probe whose program reads both arguments
//   usdt-load: BPF(text, usdt_contexts) to attached (tsbcc with a warm compile cache; BCC compiles every time)
// Medians of RUNS (default 5). The uprobe cost is the kernel's (int3 + out-of-line single step of the probed
// instruction; expensive under virtualization), the same for both; the USDT hit (a nop, no single step) shows
// the argument readers' cost. BCC needs kernel headers; without the running kernel's, Debian's
// linux-headers-* are merged into one tree for BCC_KERNEL_SOURCE (as bench/events.ts does).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF, USDT } from "../src/index.js";
import { buildTargets, startTarget } from "../test/helpers/usdt-targets.js";

const RUNS = Number(process.env.RUNS ?? 5);
const CALLS = Number(process.env.CALLS ?? 1_000_000);
const COUNT = "BPF_ARRAY(c, u64, 1);\nint on_call(struct pt_regs *ctx) { int k = 0; u64 *v = c.lookup(&k); if (v) __sync_fetch_and_add(v, 1); return 0; }\n";
const TICK = "BPF_ARRAY(c, u64, 1);\nint on_tick(struct pt_regs *ctx) { long i = 0; int w = 0; bpf_usdt_readarg(1, ctx, &i); " +
  "bpf_usdt_readarg(2, ctx, &w); int k = 0; u64 *v = c.lookup(&k); if (v) __sync_fetch_and_add(v, i + w); return 0; }\n";

// By path for both: BCC 0.26 fails to enumerate the symbols of "c" here ("Error -1 enumerating symbols").
const LIBC = BPF.findLibrary("c") ?? "/lib/x86_64-linux-gnu/libc.so.6";
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function tsbcc(target: string): Promise<Record<string, number>> {
  const out: Record<string, number[]> = { attach: [], detach: [], uprobe: [], usdt: [], "usdt-load": [], base: [] };
  const t = await startTarget(target);
  try {
    for (let r = 0; r < RUNS; r++) {
      const b = await BPF.load({ text: COUNT });
      let t0 = performance.now();
      b.attachUprobe({ name: LIBC, symRe: "str.*", fnName: "on_call" });
      out.attach!.push(performance.now() - t0);
      t0 = performance.now();
      b.close();
      out.detach!.push(performance.now() - t0);
      t0 = performance.now();
      await t.send(`c ${CALLS}`);
      out.base!.push(((performance.now() - t0) * 1e6) / CALLS);
      const c = await BPF.load({ text: COUNT });
      c.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_call", pid: t.pid });
      t0 = performance.now();
      await t.send(`c ${CALLS}`);
      out.uprobe!.push(((performance.now() - t0) * 1e6) / CALLS);
      c.close();
      t0 = performance.now();
      const u = new USDT({ pid: t.pid }).enableProbe({ probe: "tick", fnName: "on_tick" });
      const d = await BPF.load({ text: TICK, usdtContexts: [u] });
      out["usdt-load"]!.push(performance.now() - t0);
      t0 = performance.now();
      await t.send(`u ${CALLS}`);
      out.usdt!.push(((performance.now() - t0) * 1e6) / CALLS);
      d.close();
    }
  } finally {
    await t.stop();
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)]));
}

const BCC_SCRIPT = String.raw`
import sys, time, subprocess, json
from bcc import BPF, USDT
target, runs, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
COUNT, TICK = sys.argv[4], sys.argv[5]
p = subprocess.Popen([target], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
p.stdout.readline()
def send(cmd):
    p.stdin.write(cmd + "\n"); p.stdin.flush(); return p.stdout.readline()
out = {k: [] for k in ["attach", "detach", "uprobe", "usdt", "usdt-load", "base"]}
for r in range(runs):
    b = BPF(text=COUNT)
    t0 = time.monotonic(); b.attach_uprobe(name=sys.argv[6], sym_re="str.*", fn_name="on_call"); out["attach"].append((time.monotonic() - t0) * 1e3)
    t0 = time.monotonic(); b.cleanup(); out["detach"].append((time.monotonic() - t0) * 1e3)
    t0 = time.monotonic(); send("c %d" % calls); out["base"].append((time.monotonic() - t0) * 1e9 / calls)
    c = BPF(text=COUNT); c.attach_uprobe(name=target, sym="tsbcc_target", fn_name="on_call", pid=p.pid)
    t0 = time.monotonic(); send("c %d" % calls); out["uprobe"].append((time.monotonic() - t0) * 1e9 / calls)
    c.cleanup()
    t0 = time.monotonic()
    u = USDT(pid=p.pid); u.enable_probe(probe="tick", fn_name="on_tick")
    d = BPF(text=TICK, usdt_contexts=[u])
    out["usdt-load"].append((time.monotonic() - t0) * 1e3)
    t0 = time.monotonic(); send("u %d" % calls); out["usdt"].append((time.monotonic() - t0) * 1e9 / calls)
    d.cleanup()
p.stdin.write("q\n"); p.stdin.flush(); p.wait()
print(json.dumps({k: sorted(v)[len(v) // 2] for k, v in out.items()}))
`;

/** Kernel headers for BCC (see bench/events.ts). */
function bccEnv(work: string): NodeJS.ProcessEnv | string {
  const build = `/lib/modules/${execFileSync("uname", ["-r"]).toString().trim()}/build`;
  if (existsSync(build)) return process.env;
  const src = existsSync("/usr/src") ? readdirSync("/usr/src") : [];
  const arch = src.filter((d) => /^linux-headers-.*-amd64$/.test(d)).sort().pop();
  const common = arch && src.find((d) => d === arch.replace(/-amd64$/, "-common"));
  if (!arch || !common) return `no kernel headers for BCC (${build} missing; apt-get install linux-headers-amd64)`;
  const tree = join(work, "kheaders");
  mkdirSync(tree);
  execFileSync("cp", ["-rs", `/usr/src/${common}/.`, tree]);
  execFileSync("cp", ["-rsf", `/usr/src/${arch}/.`, tree]);
  return { ...process.env, BCC_KERNEL_SOURCE: tree };
}

function bcc(target: string, work: string): Record<string, number> | string {
  const env = bccEnv(work);
  if (typeof env === "string") return env;
  const script = join(work, "bench.py");
  writeFileSync(script, BCC_SCRIPT);
  const r = spawnSync("/usr/bin/python3", [script, target, String(RUNS), String(CALLS), COUNT, TICK, LIBC], { env, encoding: "utf8" });
  if (r.status !== 0) return (r.stderr || r.stdout).trim().split("\n").slice(-2).join(" | ");
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
}

const { target } = buildTargets();
const work = mkdtempSync(join(tmpdir(), "tsbcc-bench-uprobes-"));
try {
  const ours = await tsbcc(target);
  const theirs = bcc(target, work);
  const rows: [string, string, string][] = [
    ["attach", "ms", "attach uprobes on libc str.* (ms)"], ["detach", "ms", "detach them (ms)"],
    ["base", "ns", "call, no probe (ns)"], ["uprobe", "ns", "call with a counting uprobe (ns)"],
    ["usdt", "ns", "USDT hit reading 2 args (ns)"], ["usdt-load", "ms", "USDT load to attached (ms)"],
  ];
  console.log(`uprobes bench: median of ${RUNS} runs, ${CALLS} calls per timing${typeof theirs === "string" ? `; BCC: ${theirs}` : ""}`);
  console.log(`${"".padEnd(36)} ${"tsbcc".padStart(10)} ${"BCC".padStart(10)}`);
  for (const [k, , label] of rows) {
    const b = typeof theirs === "string" ? "-" : theirs[k]!.toFixed(1);
    console.log(`${label.padEnd(36)} ${ours[k]!.toFixed(1).padStart(10)} ${b.padStart(10)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
