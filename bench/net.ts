// Networking benchmark (`npm run bench:net`, as root): the same XDP object loaded by tsbcc and by a small libbpf
// C loader (bench/net/loader.c, built here with gcc -lbpf), side by side in one run.
//   - XDP drop rate: a veth pair between two fresh namespaces; a C sender (bench/net/sender.c) blasts 60-byte
//     UDP frames from one side for a few seconds while the other side's XDP program (generic mode) drops and
//     counts them; packets per second = frames the program dropped / the sender's elapsed time, and per CPU
//     second of the sender (the receive path runs in its softirq context), which other load disturbs less.
//   - testRun: one BPF_PROG_TEST_RUN of REPEAT runs on a 60-byte frame; the kernel's ns per run, and runs per
//     second of wall time around the call.
// Rounds alternate between the loaders; medians are printed. The kernel does the work in both cases, so the
// figures should agree within noise (target: within 5%).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BPF } from "../src/api/bpf.js";
import { compileDialect } from "../src/dialect/index.js";
import { createVethPair } from "../test/helpers/netns.js";

const ROUNDS = Number(process.env.NET_BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.NET_BENCH_SECONDS ?? 3);
const REPEAT = 2_000_000;
const FRAME_LEN = 60;
const srcDir = join(dirname(fileURLToPath(import.meta.url)), "../../bench/net");

const PROGRAM = `
BPF_PERCPU_ARRAY(dropped, u64, 1);
int xdp_drop_all(struct xdp_md *ctx) {
    int zero = 0;
    u64 *n = dropped.lookup(&zero);
    if (n) *n += 1;
    return XDP_DROP;
}
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function frame(): Uint8Array {
  const f = new Uint8Array(FRAME_LEN);
  f[12] = 0x08;
  f[14] = 0x45;
  f[23] = 17;
  return f;
}

if (process.getuid?.() !== 0) {
  console.error("bench:net needs root (network namespaces, XDP)");
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "tsbcc-bench-net-"));
const loader = join(work, "loader"), sender = join(work, "sender"), objPath = join(work, "xdp.o");
execFileSync("gcc", ["-O2", "-o", loader, join(srcDir, "loader.c"), "-lbpf"]);
execFileSync("gcc", ["-O2", "-o", sender, join(srcDir, "sender.c")]);
const compiled = await compileDialect({ text: PROGRAM });
writeFileSync(objPath, compiled.object);

const pair = createVethPair();
const macB = pair.exec(pair.nsB, ["cat", `/sys/class/net/${pair.devB}/address`]).trim();
const b = await BPF.load({ text: PROGRAM }); // The compile cache hands back the very same object.
b.loadFunc("xdp_drop_all", BPF.XDP);

interface Rate { pps: number; perCpuSecond: number }

/** Runs the sender in nsA; returns [frames sent, elapsed ns, sender CPU ns]. */
function blast(): [number, number, number] {
  const [sent, ns, cpu] = pair.exec(pair.nsA, [sender, pair.devA, macB, String(SECONDS)]).trim().split(" ").map(Number);
  return [sent!, ns!, cpu!];
}

function rate(dropped: number, ns: number, cpu: number): Rate {
  return { pps: dropped / (ns / 1e9), perCpuSecond: dropped / (cpu / 1e9) };
}

async function xdpTsbcc(): Promise<Rate> {
  const table = b.table("dropped");
  table.clear();
  pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_drop_all", { mode: "generic" }));
  const [, ns, cpu] = blast();
  const dropped = Number(table.sum(0) ?? 0n);
  pair.inNs(pair.nsB, () => b.detachXdp(pair.devB));
  return rate(dropped, ns, cpu);
}

async function xdpLibbpf(): Promise<Rate> {
  const child = spawn("ip", ["netns", "exec", pair.nsB, loader, "xdp", objPath, "xdp_drop_all", pair.devB], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  while (!out.includes("ready\n")) {
    if (child.exitCode !== null) throw new Error("libbpf loader failed to attach");
    await new Promise((r) => setTimeout(r, 10));
  }
  const [, ns, cpu] = blast();
  child.stdin.end();
  if ((await exited) !== 0) throw new Error("libbpf loader failed");
  return rate(Number(out.trim().split("\n").pop()), ns, cpu);
}

function testRunTsbcc(): { perRun: number; runsPerSec: number } {
  const data = frame();
  const t0 = process.hrtime.bigint();
  const r = b.testRun("xdp_drop_all", { data, repeat: REPEAT });
  const wall = Number(process.hrtime.bigint() - t0);
  if (r.verdict !== "DROP") throw new Error(`unexpected verdict ${r.verdict}`);
  return { perRun: r.duration, runsPerSec: REPEAT / (wall / 1e9) };
}

function testRunLibbpf(): { perRun: number; runsPerSec: number } {
  const r = spawnSync(loader, ["testrun", objPath, "xdp_drop_all", String(REPEAT), String(FRAME_LEN)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`libbpf test run failed: ${r.stderr}`);
  const [retval, duration, wall] = r.stdout.trim().split(" ").map(Number);
  if (retval !== 1) throw new Error(`unexpected verdict ${retval}`);
  return { perRun: duration!, runsPerSec: REPEAT / (wall! / 1e9) };
}

const res = { xdp: { tsbcc: [] as Rate[], libbpf: [] as Rate[] }, tr: { tsbcc: [] as { perRun: number; runsPerSec: number }[], libbpf: [] as { perRun: number; runsPerSec: number }[] } };
try {
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ["tsbcc", "libbpf"] as const : ["libbpf", "tsbcc"] as const;
    for (const who of order) res.xdp[who].push(who === "tsbcc" ? await xdpTsbcc() : await xdpLibbpf());
    for (const who of order) res.tr[who].push(who === "tsbcc" ? testRunTsbcc() : testRunLibbpf());
  }
} finally {
  b.close();
  pair.destroy();
  rmSync(work, { recursive: true, force: true });
}

const pct = (a: number, c: number): string => `${(((a - c) / c) * 100).toFixed(1).replace(/^(?!-)/, "+")}%`;
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const row = (what: string, t: number, l: number): string => `${what.padEnd(38)} ${fmt(t).padStart(14)} ${fmt(l).padStart(14)} ${pct(t, l).padStart(8)}`;
console.log(`bench:net  ${ROUNDS} rounds, medians  (load average ${loadavg().map((x) => x.toFixed(2)).join(" ")})`);
console.log(`${"".padEnd(38)} ${"tsbcc".padStart(14)} ${"libbpf (C)".padStart(14)} ${"diff".padStart(8)}`);
console.log(row(`XDP drop, generic mode, veth (pkt/s)`, median(res.xdp.tsbcc.map((r) => r.pps)), median(res.xdp.libbpf.map((r) => r.pps))));
console.log(row(`  same, per sender CPU second`, median(res.xdp.tsbcc.map((r) => r.perCpuSecond)), median(res.xdp.libbpf.map((r) => r.perCpuSecond))));
console.log(row(`testRun x${REPEAT} (runs/s, wall)`, median(res.tr.tsbcc.map((r) => r.runsPerSec)), median(res.tr.libbpf.map((r) => r.runsPerSec))));
console.log(row(`testRun kernel time (ns/run)`, median(res.tr.tsbcc.map((r) => r.perRun)), median(res.tr.libbpf.map((r) => r.perRun))));
console.log(`per round (pkt/s): XDP tsbcc ${res.xdp.tsbcc.map((r) => fmt(r.pps)).join(", ")}; libbpf ${res.xdp.libbpf.map((r) => fmt(r.pps)).join(", ")}`);
