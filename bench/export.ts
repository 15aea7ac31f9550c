// npm run bench:export — what the exporters cost while nobody reads them. The real `tsbcc runqlat 1` (the bundled
// command line: a log2 histogram printed and cleared every second) runs under the same wake-up load (a process
// sleeping 50 us in a loop) without exporters, with --prometheus never scraped, and with --prometheus scraped every
// second; BCC's runqlat-bpfcc 1 runs beside them. Reported: user+system CPU of the tool's process per
// second of load (from /proc/PID/task/*/schedstat) and its context switches per second (wake-ups), the median of
// RUNS alternating runs. Kernel-side BPF cost is the same in the tsbcc variants (same programs) and is not in these
// figures. BCC's runqlat needs kernel headers (or kheaders.ko); without them its row says why it failed.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "src", "cli", "tsbcc.mjs");
const READY = "Tracing run queue latency";
const RUNS = Number(process.env.RUNS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 10);
// Node's memory reducer runs two or three compacting GCs about 8 s after start; measuring before they are over
// charges start-up housekeeping to the steady state (3.3 vs 0.6 ms/s for the same tool), so warm up past them.
const WARMUP = Number(process.env.WARMUP ?? 20);
// On-CPU time of all the process's threads in ns (/proc/PID/task/*/schedstat, first field): finer than the
// 10 ms ticks of /proc/PID/stat, which would round a quiet tool to zero.
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return ns / 1e6;
}

function loadGenerator(dir: string): string {
  const src = join(dir, "sleeper.c");
  writeFileSync(src, `#include <time.h>\n#include <stdlib.h>\nint main(int c, char **v) { struct timespec ts = {0, 50000};` +
    ` time_t end = time(0) + atoi(v[1]); while (time(0) < end) nanosleep(&ts, 0); return 0; }\n`);
  const bin = join(dir, "sleeper");
  execFileSync("gcc", ["-O1", "-o", bin, src]);
  return bin;
}

// Context switches of all the process's threads: an exporter that does nothing while idle adds none.
function switches(pid: number): number {
  let n = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      for (const m of st.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return n;
}

async function waitFor(child: ChildProcess, text: string): Promise<void> {
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${text}" in 120 s: ${out}`)), 120_000);
    const on = (d: Buffer): void => {
      out += d;
      if (out.includes(text)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", on);
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`exited (${code}) before "${text}": ${out.trim().split("\n").slice(-2).join(" ")}`));
    });
  });
  child.stdout!.resume();
}

interface Variant { name: string; cmd: string; args: string[]; ready: string; scrape?: boolean }

async function measure(v: Variant, sleeper: string): Promise<[number, number]> {
  const child = spawn(v.cmd, v.args, { stdio: ["pipe", "pipe", "pipe"] });
  try {
    await waitFor(child, v.ready);
    let url: string | undefined;
    child.stderr!.on("data", (d: Buffer) => (url ??= /serving Prometheus metrics at (\S+)/.exec(String(d))?.[1]));
    // Past start-up: V8 compiles and collects in background threads for a few seconds after a tool starts.
    await new Promise((r) => setTimeout(r, WARMUP * 1000));
    const scraper = v.scrape ? setInterval(() => url && fetch(url).then((r) => r.text()).catch(() => {}), 1000) : undefined;
    const c0 = cpuMs(child.pid!);
    const s0 = switches(child.pid!);
    const t0 = Date.now();
    await new Promise((r) => spawn(sleeper, [String(SECONDS)], { stdio: "ignore" }).on("exit", r));
    const used = cpuMs(child.pid!) - c0;
    const woke = switches(child.pid!) - s0;
    const secs = (Date.now() - t0) / 1000;
    if (scraper) clearInterval(scraper);
    return [used / secs, woke / secs];
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
  }
}

const dir = mkdtempSync(join(tmpdir(), "tsbcc-bench-export-"));
try {
  const sleeper = loadGenerator(dir);
  const node = process.execPath;
  const variants: Variant[] = [
    { name: "tsbcc runqlat 1, no exporter", cmd: node, args: [CLI, "runqlat", "1"], ready: READY },
    { name: "tsbcc runqlat 1 --prometheus, never scraped", cmd: node, args: [CLI, "runqlat", "--prometheus", "127.0.0.1:0", "1"], ready: READY },
    { name: "tsbcc runqlat 1 --prometheus, scraped every 1 s", cmd: node, args: [CLI, "runqlat", "--prometheus", "127.0.0.1:0", "1"], ready: READY, scrape: true },
  ];
  if (existsSync("/usr/sbin/runqlat-bpfcc")) {
    variants.push({ name: "BCC runqlat-bpfcc 1", cmd: "/usr/bin/python3", args: ["/usr/sbin/runqlat-bpfcc", "1"], ready: READY });
  }
  const results = new Map<string, [number, number][]>(variants.map((v) => [v.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const v of variants) {
      try {
        results.get(v.name)!.push(await measure(v, sleeper));
      } catch (e) {
        console.error(`${v.name}: ${(e as Error).message.split("\n").slice(0, 2).join(" ")}`);
      }
    }
  }
  console.log(`The tool's process under a 50 us sleep loop (${SECONDS} s x ${RUNS} runs after ${WARMUP} s, median (min-max)): CPU, context switches`);
  const stat = (xs: number[], digits: number, unit: string): string => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 2)]!.toFixed(digits)} ${unit} (${s[0]!.toFixed(digits)}-${s.at(-1)!.toFixed(digits)})`;
  };
  for (const [name, xs] of results) {
    const text = xs.length ? `${stat(xs.map((x) => x[0]), 2, "ms/s").padEnd(28)} ${stat(xs.map((x) => x[1]), 1, "switches/s")}` : "failed (above)";
    console.log(`  ${name.padEnd(52)} ${text}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
