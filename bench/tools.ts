// npm run bench:tools — tsbcc's tools side by side with BCC's (python3-bpfcc):
// 1. start-up: time from start to the tool's header line and peak RSS (VmHWM at that moment), median of RUNS, for
//    five tools BCC can run on this kernel, warm cache (tsbcc's compile cache filled by one run first);
// 2. opensnoop per-event CPU under ~100k opens/s: the same BPF program (BCC's dialect) consumed by tsbcc's opensnoop
//    and by BCC's Python runtime printing the same columns; CPU time of the consumer process per event delivered,
//    RUNS runs of each side, alternating.
// Knobs: RUNS (default 3), ONLY=startup|opensnoop, TOOLS=softirqs,syscount (start-up rows), RATE, SECONDS.
// BCC needs kernel headers: with Debian's linux-headers-amd64 installed, /lib/modules/$(uname -r)/{build,source} are
// linked to them here when missing (the running kernel is not Debian's, so BCC reads mismatched headers; the
// programs measured here only use tracepoint records and the task's pid/comm).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { opensnoopProgram } from "../src/tools/opensnoop.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
// TSBCC_BENCH_CLI: another build of the command to measure (e.g. an older commit's, for before/after figures).
const cli = process.env.TSBCC_BENCH_CLI ?? join(here, "..", "src", "cli", "tsbcc.mjs");
const RUNS = Number(process.env.RUNS ?? 3);
const TICKS = 100; // USER_HZ, the unit of /proc/PID/stat times

function ensureBccHeaders(): string {
  const mod = `/lib/modules/${release()}`;
  if (existsSync(`${mod}/build`)) return `${mod}/build present`;
  const headers = existsSync("/usr/src") ? readdirSync("/usr/src").filter((d) => /^linux-headers-.*-amd64$/.test(d)).sort().pop() : undefined;
  if (!headers) return "no linux-headers installed: BCC cannot compile (apt-get install linux-headers-amd64)";
  // Debian splits the headers: the arch part (build) and the common include tree (source).
  const common = headers.replace(/-amd64$/, "-common");
  mkdirSync(mod, { recursive: true });
  symlinkSync(`/usr/src/${headers}`, `${mod}/build`);
  if (!existsSync(`${mod}/source`)) symlinkSync(`/usr/src/${existsSync(`/usr/src/${common}`) ? common : headers}`, `${mod}/source`);
  return `linked ${mod}/build -> /usr/src/${headers}`;
}

function procTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function peakMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Run { proc: ReturnType<typeof spawn>; lines(): number; out(): string; err(): string; header: Promise<number>; exited: Promise<void> }

// NODE_EXTRA_CA_CERTS (set on some machines) makes every node start read a certificate bundle (~35 ms): not part of
// a tool's start-up.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

function start(cmd: string, args: string[], header: RegExp): Run {
  const t0 = process.hrtime.bigint();
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let err = "";
  let lines = 0;
  let seen = false;
  let resolveHeader: (s: number) => void;
  const headerP = new Promise<number>((r) => (resolveHeader = r));
  proc.stdout!.on("data", (d: Buffer) => {
    if (out.length < 4096) out += d.toString();
    for (const b of d) if (b === 10) lines++;
    if (!seen && header.test(out)) {
      seen = true;
      resolveHeader(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => {
    if (!seen) resolveHeader(NaN);
    r();
  }));
  return { proc, lines: () => lines, out: () => out, err: () => err, header: headerP, exited };
}

async function stop(r: Run): Promise<void> {
  r.proc.kill("SIGINT");
  const t = setTimeout(() => r.proc.kill("SIGKILL"), 15000);
  await r.exited;
  clearTimeout(t);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startup(cmd: string, args: string[], header: RegExp): Promise<{ seconds: number; mib: number } | string> {
  const secs: number[] = [];
  const mibs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = start(cmd, args, header);
    const s = await r.header;
    const mib = Number.isNaN(s) ? NaN : peakMiB(r.proc.pid!);
    await stop(r);
    if (Number.isNaN(s)) return (r.err() || r.out()).trim().split("\n").slice(-2).join(" | ") || "no header";
    secs.push(s);
    mibs.push(mib);
  }
  return { seconds: median(secs), mib: median(mibs) };
}

const TOOLS: Array<{ name: string; args: string[]; header: RegExp }> = [
  { name: "syscount", args: [], header: /Ctrl\+C to quit/ },
  { name: "runqlat", args: [], header: /Hit Ctrl-C to end/ },
  { name: "exitsnoop", args: [], header: /EXIT_CODE/ },
  { name: "tcplife", args: [], header: /RX_KB/ },
  { name: "softirqs", args: [], header: /Hit Ctrl-C to end/ },
];

async function startupTable(): Promise<void> {
  console.log(`start-up: start -> header line, peak RSS at that point (median of ${RUNS}, warm cache)`);
  const bare = await startup(process.execPath, ["-e", "console.log('ready'); setInterval(() => {}, 1000)"], /ready/);
  if (typeof bare !== "string") console.log(`(a bare node process prints its first line after ${bare.seconds.toFixed(3)} s, ${bare.mib.toFixed(1)} MiB here)`);
  console.log("tool         tsbcc (s)  tsbcc MiB   BCC (s)   BCC MiB   BCC/tsbcc time");
  const only = process.env.TOOLS?.split(",");
  for (const t of TOOLS.filter((x) => !only || only.includes(x.name))) {
    const warm = start(process.execPath, [cli, t.name, ...t.args], t.header);
    await warm.header;
    await stop(warm);
    const ours = await startup(process.execPath, [cli, t.name, ...t.args], t.header);
    const bcc = await startup(`/usr/sbin/${t.name}-bpfcc`, t.args, t.header);
    const fmt = (x: { seconds: number; mib: number } | string): string =>
      typeof x === "string" ? `failed: ${x.slice(0, 60)}`.padEnd(20) : `${x.seconds.toFixed(3).padStart(9)} ${x.mib.toFixed(1).padStart(10)}`;
    const ratio = typeof ours !== "string" && typeof bcc !== "string" ? `${(bcc.seconds / ours.seconds).toFixed(1)}x` : "-";
    console.log(`${t.name.padEnd(12)} ${fmt(ours)} ${fmt(bcc)}   ${ratio}`);
  }
}

interface PerEvent { line: string; us?: number }

async function perEvent(name: string, cmd: (pid: number) => [string, string[]], loadgen: string, rate: number, seconds: number): Promise<PerEvent> {
  const load = spawn(loadgen, ["/etc/hostname", String(rate), String(seconds)], { stdio: ["pipe", "pipe", "inherit"] });
  let made = "";
  load.stdout!.on("data", (d: Buffer) => (made += d.toString()));
  const loadDone = new Promise<void>((r) => load.on("exit", () => r()));
  const [c, a] = cmd(load.pid!);
  const r = start(c, a, /PATH/);
  const h = await r.header;
  if (Number.isNaN(h)) {
    load.kill();
    return { line: `${name.padEnd(8)} failed: ${(r.err() || r.out()).trim().split("\n").slice(-2).join(" | ")}` };
  }
  await new Promise((res) => setTimeout(res, 500));
  const before = procTicks(r.proc.pid!);
  const linesBefore = r.lines();
  load.stdin!.end("x");
  await loadDone;
  await new Promise((res) => setTimeout(res, 1000));
  const cpu = (procTicks(r.proc.pid!) - before) / TICKS;
  const events = r.lines() - linesBefore;
  await stop(r);
  const lost = [...r.err().matchAll(/lost (\d+) samples/gi)].reduce((n, m) => n + Number(m[1]), 0);
  const opens = Number(made.trim());
  const us = events ? (cpu / events) * 1e6 : undefined;
  return {
    line: `${name.padEnd(8)} opens ${opens} (${(opens / seconds / 1000).toFixed(0)}k/s)  events ${events}  lost ${lost}  CPU ${cpu.toFixed(2)} s  ` +
      `${us !== undefined ? us.toFixed(2) : "-"} us/event`,
    us,
  };
}

async function opensnoopCpu(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-bench-tools-"));
  try {
    const loadgen = join(dir, "openloop");
    execFileSync("gcc", ["-O2", "-o", loadgen, join(root, "bench", "tools", "openloop.c")]);
    const rate = Number(process.env.RATE ?? 100000);
    const seconds = Number(process.env.SECONDS ?? 3);
    console.log(`\nopensnoop per-event CPU: ~${rate / 1000}k opens/s for ${seconds} s by one process (-p), output to a pipe`);
    // BCC's kernel headers (Debian 6.1) lack struct open_how: the BCC side leaves openat2 out (the load uses openat).
    const program = opensnoopProgram({ pid: 0 }, ["openat2"]);
    // Alternating runs, so that load from elsewhere on the machine falls on both sides alike; medians at the end.
    const ours: number[] = [];
    const bcc: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const o = await perEvent("tsbcc", (pid) => [process.execPath, [cli, "opensnoop", "-p", String(pid)]], loadgen, rate, seconds);
      console.log(o.line);
      if (o.us !== undefined) ours.push(o.us);
      const b = await perEvent("BCC", (pid) => ["/usr/bin/python3", [join(root, "bench", "tools", "bcc_opensnoop.py"),
        program.replace("#define FILTER_PID 0", `#define FILTER_PID ${pid}`)]], loadgen, rate, seconds);
      console.log(b.line);
      if (b.us !== undefined) bcc.push(b.us);
    }
    if (ours.length && bcc.length) {
      console.log(`median us/event: tsbcc ${median(ours).toFixed(2)}, BCC ${median(bcc).toFixed(2)}; ` +
        `BCC CPU per event / tsbcc CPU per event = ${(median(bcc) / median(ours)).toFixed(1)}x`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`BCC kernel headers: ${ensureBccHeaders()}`);
if (!process.env.ONLY || process.env.ONLY === "startup") await startupTable();
if (!process.env.ONLY || process.env.ONLY === "opensnoop") await opensnoopCpu();
