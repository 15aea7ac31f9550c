// Symbolization benchmark, tsbcc next to BCC in the same run (`npm run bench:symbols`, as root for kernel addresses).
//
// Target: a long-lived `node` process (the ~100 MB node binary, ~185k symbols in .symtab + .dynsym).
//   - 1,000,000 random addresses inside node's executable mapping, symbolized with b.sym(addr, pid);
//   - 1,000,000 random kernel text addresses (_stext.._etext), symbolized with BPF.ksym(addr);
//   - the cost of loading node's symbol table (first lookup in a fresh symbolizer, and loadModuleSymbols alone,
//     median of 5) and the memory it holds.
// BCC (Debian's python3-bpfcc, /usr/bin/python3) gets the same addresses from a file and runs BPF.sym / BPF.ksym in
// a loop. A sample of answers from both sides is compared and the agreement reported. Rates are per second of CPU
// time (the machine may be shared; wall-clock rates are shown too); tsbcc's timed passes follow 20,000 warm-up
// lookups so the JIT has compiled the lookup path. Neither side reads the returned strings in the timed loops (BCC's
// loop discards them); the sampled comparison checks what they say.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Symbolizer, loadModuleSymbols } from "../src/symbols/index.js";

const N = Number(process.env.TSBCC_BENCH_N ?? 1_000_000);
const SAMPLE = 2000;
const WARMUP = 20_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Deterministic addresses: xorshift32 over [lo, hi). */
function randomAddresses(lo: bigint, hi: bigint, n: number, seed: number): BigUint64Array {
  const out = new BigUint64Array(n);
  const span = Number(hi - lo);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const y = (x * 2654435761) >>> 0;
    out[i] = lo + BigInt(Math.floor(((x * 4294967296 + y) / 2 ** 64) * span));
  }
  return out;
}

const PYTHON = String.raw`
import json, os, resource, sys, time
from array import array
from bcc import BPF
pid, path, n, sample = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = array("Q"); a.frombytes(open(path, "rb").read())
user, kern = a[:n].tolist(), a[n:].tolist()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); c = time.process_time(); BPF.sym(user[0], pid); load = time.perf_counter() - t; loadCpu = time.process_time() - c
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sym = BPF.sym
t = time.perf_counter(); c = time.process_time()
for x in user: sym(x, pid)
user_s = time.perf_counter() - t; userCpu = time.process_time() - c
t = time.perf_counter(); BPF.ksym(kern[0]); kload = time.perf_counter() - t
ksym = BPF.ksym
t = time.perf_counter(); c = time.process_time()
for x in kern: ksym(x)
kern_s = time.perf_counter() - t; kernCpu = time.process_time() - c
out = {"load": load, "loadCpu": loadCpu, "rssKb": rss1 - rss0, "user": user_s, "userCpu": userCpu, "kload": kload,
       "kern": kern_s, "kernCpu": kernCpu,
       "userSample": [sym(x, pid, show_offset=True).decode("utf-8", "replace") for x in user[:sample]],
       "kernSample": [ksym(x, show_offset=True).decode("utf-8", "replace") for x in kern[:sample]]}
print(json.dumps(out))
`;

/** Seconds, wall and CPU (this process's user + system time: the machine may be shared). */
interface Side {
  load: number; loadCpu: number; user: number; userCpu: number; kload: number; kern: number; kernCpu: number;
  rssKb: number; userSample: string[]; kernSample: string[];
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

function runTsbcc(pid: number, user: BigUint64Array, kern: BigUint64Array): Side {
  const s = new Symbolizer();
  const rss0 = process.memoryUsage().rss;
  let t = performance.now();
  let c = process.cpuUsage();
  s.sym(user[0]!, pid);
  const load = (performance.now() - t) / 1000;
  const loadCpu = cpuSeconds(c);
  const rssKb = Math.round((process.memoryUsage().rss - rss0) / 1024);
  t = performance.now();
  s.ksym(kern[0]!);
  const kload = (performance.now() - t) / 1000;
  const users = Array.from(user);
  const kerns = Array.from(kern);
  let sink = 0;
  // Warm-up (the JIT compiles the lookup path): 20,000 lookups of each kind before the timed passes.
  for (let i = 0; i < WARMUP; i++) if (s.sym(users[i]!, pid) === undefined || s.ksym(kerns[i]!) === undefined) sink++;
  t = performance.now();
  c = process.cpuUsage();
  for (let i = 0; i < users.length; i++) if (s.sym(users[i]!, pid) === undefined) sink++;
  const userS = (performance.now() - t) / 1000;
  const userCpu = cpuSeconds(c);
  t = performance.now();
  c = process.cpuUsage();
  for (let i = 0; i < kerns.length; i++) if (s.ksym(kerns[i]!) === undefined) sink++;
  const kernS = (performance.now() - t) / 1000;
  const kernCpu = cpuSeconds(c);
  if (sink !== 0) throw new Error("a lookup returned no string");
  return {
    load, loadCpu, user: userS, userCpu, kload, kern: kernS, kernCpu, rssKb,
    userSample: users.slice(0, SAMPLE).map((a) => s.sym(a, pid, { showOffset: true })),
    kernSample: kerns.slice(0, SAMPLE).map((a) => s.ksym(a, { showOffset: true })),
  };
}

function agreement(a: string[], b: string[]): string {
  let same = 0;
  const diffs: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) same++;
    else if (diffs.length < 3) diffs.push(`tsbcc "${a[i]}" vs BCC "${b[i]}"`);
  }
  return `${((100 * same) / a.length).toFixed(1)}% of ${a.length}${diffs.length ? ` (e.g. ${diffs.join("; ")})` : ""}`;
}

async function main(): Promise<void> {
  const target = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-bench-sym-"));
  try {
    await new Promise((r) => setTimeout(r, 300));
    const pid = target.pid!;
    const exe = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").find((l) => / r-xp /.test(l) && l.endsWith(process.execPath))!;
    const [lo, hi] = exe.split(" ")[0]!.split("-").map((h) => BigInt(`0x${h}`));
    const probe = new Symbolizer();
    const user = randomAddresses(lo!, hi!, N, 1);
    const kern = randomAddresses(probe.ksymname("_stext"), probe.ksymname("_etext"), N, 2);
    const file = join(dir, "addrs.bin");
    const both = new BigUint64Array(2 * N);
    both.set(user);
    both.set(kern, N);
    writeFileSync(file, new Uint8Array(both.buffer));

    const ts = runTsbcc(pid, user, kern); // first, so its RSS growth is a fresh load's
    // Loading node's symbols alone, fresh each time.
    const loads: number[] = [];
    const cpus: number[] = [];
    let bytes = 0;
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const mod = loadModuleSymbols(process.execPath);
      loads.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1000);
      bytes = mod.byteSize;
      count = mod.size;
    }

    const py = spawnSync("/usr/bin/python3", ["-c", PYTHON, String(pid), file, String(N), String(SAMPLE)], { maxBuffer: 1 << 28 });
    let bcc: Side | undefined;
    if (py.status === 0) bcc = JSON.parse(py.stdout.toString()) as Side;
    else console.log(`BCC side failed: ${py.stderr.toString().trim().split("\n").pop()}`);

    const rate = (n: number, s: number) => (n / s / 1e6).toFixed(2);
    console.log(`symbolization benchmark: ${N.toLocaleString()} addresses each; node ${process.version} (${process.execPath}); load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    console.log(`node symbol table: ${count.toLocaleString()} functions; loadModuleSymbols median ${median(loads).toFixed(0)} ms wall, ${median(cpus).toFixed(0)} ms CPU (runs: ${loads.map((x) => x.toFixed(0)).join(", ")} ms); index holds ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    console.log("");
    console.log("rates in M lookups/s of CPU time (wall-clock in brackets); ratio = tsbcc / BCC on CPU time");
    console.log(`${"".padEnd(26)}${"tsbcc".padEnd(22)}${"BCC (python3-bpfcc)".padEnd(22)}ratio`);
    const cell = (cpu: number, wall: number) => `${rate(N, cpu)} (${rate(N, wall)})`;
    const row = (what: string, tc: number, tw: number, bc?: number, bw?: number) =>
      console.log(`${what.padEnd(26)}${cell(tc, tw).padEnd(22)}${(bc && bw ? cell(bc, bw) : "-").padEnd(22)}${bc ? `${(bc / tc).toFixed(1)}x` : "-"}`);
    row("b.sym(addr, pid) in node", ts.userCpu, ts.user, bcc?.userCpu, bcc?.user);
    row("BPF.ksym(addr)", ts.kernCpu, ts.kern, bcc?.kernCpu, bcc?.kern);
    const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
    console.log(`${"first sym (loads node)".padEnd(26)}${`${ms(ts.loadCpu)} (${ms(ts.load)})`.padEnd(22)}${(bcc ? `${ms(bcc.loadCpu)} (${ms(bcc.load)})` : "-").padEnd(22)}${bcc ? `${(bcc.loadCpu / ts.loadCpu).toFixed(1)}x` : "-"}`);
    console.log(`${"first ksym (kallsyms)".padEnd(26)}${ms(ts.kload).padEnd(22)}${bcc ? ms(bcc.kload) : "-"}   (wall)`);
    console.log(`${"RSS growth at first sym".padEnd(26)}${`${(ts.rssKb / 1024).toFixed(1)} MiB`.padEnd(22)}${bcc ? `${(bcc.rssKb / 1024).toFixed(1)} MiB` : "-"}`);
    if (bcc) {
      console.log("");
      console.log(`same answers (with offsets), user: ${agreement(ts.userSample, bcc.userSample)}`);
      console.log(`same answers (with offsets), kernel: ${agreement(ts.kernSample, bcc.kernSample)}`);
    }
  } finally {
    target.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
