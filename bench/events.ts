// Event readers, side by side (issue #5): a C load generator makes N getppid() calls; a tracepoint program filtered
// on its pid submits a 24-byte event per call, to a perf buffer or a ring buffer. Consumers, each its own process:
// BCC Python (python3-bpfcc, events_bcc.c), a libbpf C consumer (events.bpf.o), tsbcc's BPF API on the same dialect
// source as BCC ("tsbcc-api"), and tsbcc's readers on the libbpf object with each readiness strategy
// ("tsbcc-elf-epoll", "tsbcc-elf-per-fd"). Reported per consumer:
// events produced/delivered/lost, load-generator and drain wall time, consumer CPU time per delivered event (from
// /proc/<pid>/stat), plus tsbcc's raw drain rate on bursts produced through BPF_PROG_TEST_RUN.
//
//   npm run bench:events                       # everything, N = 2,000,000
//   node dist/bench/events.js --n 500000 --only tsbcc,libbpf --perf-pages 64 --mode ring   (--mode: one buffer type)
//   TSBCC_BENCH_POLL=1 node dist/bench/events.js ...   (tsbcc consumers in the await-poll() loop instead of watch())
//   node dist/bench/events.js consumer perf|ring PID PAGES OBJ [epoll|per-fd]   (internal: tsbcc consumers)
//   node dist/bench/events.js consumer-api perf|ring PID PAGES
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openPerfBuffer, RingBufferManager, type PerfBuffer, type WatchStrategy } from "../src/events/index.js";
import { parseObject, LoadedObject } from "../src/loader/index.js";
import { attachTracepoint } from "../src/link/index.js";
import { bpf } from "../src/sys/index.js";
import { BPF } from "../src/api/bpf.js";
import { onlineCpus } from "../src/kernel/cpus.js";

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = resolve(here, "../../bench/events"); // dist/bench -> bench/events (C and Python sources)
const PAGE = 4096;

// ---------------------------------------------------------------------------------------------------------------
// The tsbcc consumer (a child process, same protocol as the others: READY; poll; first SIGUSR2 = end of the main
// burst, remember when its last event arrived; second SIGUSR2 = drain, print one JSON line, exit on stdin EOF)

function readStats(fd: number): [bigint, bigint] {
  const v = new Uint8Array(8), key = new Uint8Array(4);
  const dv = new DataView(v.buffer);
  bpf.mapLookup(fd, key, v);
  const seen = dv.getBigUint64(0, true);
  new DataView(key.buffer).setUint32(0, 1, true);
  bpf.mapLookup(fd, key, v);
  return [seen, dv.getBigUint64(0, true)];
}

/** What a consumer process needs from its reader, whichever API it came from. */
interface Source {
  poll(ms: number): Promise<number>;
  consume(): number;
  /** [produced, failed outputs] from the program's stats map. */
  stats(): [bigint, bigint];
  lost(): number;
  close(): void;
  /** Continuous mode (reader.watch / b.startPolling): drains from the readiness callback, no promise per wakeup. */
  watch?(onDrain: (n: number) => void): () => void;
}

/** TSBCC_BENCH_POLL=1 measures the promise loop (await poll()) instead of continuous mode. */
const usePoll = process.env.TSBCC_BENCH_POLL === "1";

async function runConsumer(src: Source, count: { delivered: number }): Promise<void> {
  let signals = 0, lastNs = 0n, mainLastNs = 0n, wakeups = 0;
  process.on("SIGUSR2", () => {
    if (++signals === 1) mainLastNs = lastNs;
  });
  process.stdout.write("READY\n");
  if (src.watch && !usePoll) {
    let wake: () => void = () => {};
    process.on("SIGUSR2", () => wake());
    const stop = src.watch(() => {
      lastNs = process.hrtime.bigint();
      wakeups++;
    });
    while (signals < 2) await new Promise<void>((res) => (wake = res));
    stop();
  }
  while (signals < 2) {
    const before = count.delivered;
    await src.poll(100);
    if (count.delivered !== before) {
      lastNs = process.hrtime.bigint();
      wakeups++;
    }
  }
  while (src.consume() > 0);
  const [seen, failed] = src.stats();
  process.stdout.write(JSON.stringify({
    delivered: count.delivered, lost: src.lost(), seen: Number(seen), failed: Number(failed), lastNs: Number(mainLastNs), wakeups,
  }) + "\n");
  process.stdin.resume();
  await new Promise((res) => process.stdin.once("end", res));
  src.close();
}

/** tsbcc through its BCC-style API: BPF.load on the same dialect source the BCC Python consumer compiles. */
async function apiConsumer(mode: string, pid: number, pages: number): Promise<void> {
  const cflags = [`-DTARGET_PID=${pid}`, ...(mode === "ring" ? ["-DUSE_RINGBUF=1", `-DRING_PAGES=${pages}`] : [])];
  const b = await BPF.load({ srcFile: join(srcDir, "events_bcc.c"), cflags });
  const count = { delivered: 0 };
  const cb = () => void count.delivered++;
  let lost = 0;
  if (mode === "ring") b.openRingBuffer("events", cb);
  else b.openPerfBuffer("events", cb, { pageCnt: pages, lostCb: (n) => void (lost += n) });
  const statsFd = b.table("stats").getFd();
  await runConsumer({
    poll: (ms) => (mode === "ring" ? b.ringBufferPoll(ms) : b.perfBufferPoll(ms)),
    consume: () => (mode === "ring" ? b.ringBufferConsume() : b.perfBufferConsume()),
    stats: () => readStats(statsFd),
    lost: () => (mode === "ring" ? Number(readStats(statsFd)[1]) : lost),
    close: () => b.close(),
    watch: (onDrain) => b.startPolling({ onDrain }),
  }, count);
}

/** tsbcc's readers directly, on the clang-built object the libbpf consumer loads (and a choice of readiness). */
async function consumer(mode: string, pid: number, pages: number, objPath: string, watch: WatchStrategy): Promise<void> {
  const spec = parseObject(new Uint8Array(readFileSync(objPath)));
  const ringSpec = spec.maps.find((m) => m.name === "ring_events");
  if (ringSpec) ringSpec.maxEntries = pages * PAGE;
  const obj = new LoadedObject(spec, { constants: { target_pid: pid } });
  const prog = obj.loadProgram(mode === "ring" ? "getppid_ring" : "getppid_perf");
  const link = attachTracepoint(prog.fd.value, "syscalls", "sys_enter_getppid");
  const statsFd = obj.maps.get("stats")!.fd.value;
  const count = { delivered: 0 };
  const cb = () => void count.delivered++; // callbacks only count, as in every consumer
  let reader: PerfBuffer | RingBufferManager;
  if (mode === "ring") {
    reader = new RingBufferManager({ watch }).add(obj.maps.get("ring_events")!.fd.value, cb, {
      lostCount: () => readStats(statsFd)[1], lostCb: () => {},
    });
  } else {
    reader = openPerfBuffer(obj.maps.get("perf_events")!.fd.value, cb, { pageCnt: pages, watch, lostCb: () => {} });
  }
  await runConsumer({
    poll: (ms) => reader.poll(ms),
    consume: () => reader.consume(),
    stats: () => readStats(statsFd),
    lost: () => (reader instanceof RingBufferManager ? Number(readStats(statsFd)[1]) : reader.lost),
    watch: (onDrain) => reader.watch(onDrain),
    close: () => {
      reader.close();
      link.close();
      obj.close();
    },
  }, count);
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestration

interface Args {
  n: number;
  perfPages: number;
  ringPages: number;
  only: Set<string> | null;
  rawRecords: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cpus = onlineCpus().length;
  const perfPages = Number(get("perf-pages") ?? 64);
  const ringPages = Number(get("ring-pages") ?? 2 ** Math.ceil(Math.log2(perfPages * cpus))); // same memory as perf
  const only = get("only");
  return {
    n: Number(get("n") ?? 2_000_000), perfPages, ringPages,
    only: only ? new Set(only.split(",")) : null, rawRecords: Number(get("raw") ?? 100_000),
  };
}

function have(cmd: string, args: string[] = ["--version"]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

/** Kernel headers for BCC: the running kernel's, or Debian's linux-headers-* merged into one tree (BCC_KERNEL_SOURCE). */
function bccHeaders(work: string): { env?: Record<string, string>; note: string } | { error: string } {
  const build = `/lib/modules/${execFileSync("uname", ["-r"]).toString().trim()}/build`;
  if (existsSync(build)) return { note: `headers at ${build}` };
  const src = existsSync("/usr/src") ? readdirSync("/usr/src") : [];
  const arch = src.filter((d) => /^linux-headers-.*-amd64$/.test(d) && !d.includes("common")).sort().pop();
  const common = arch && src.find((d) => d === arch.replace(/-(cloud-|rt-)?amd64$/, "-common"));
  if (!arch || !common) return { error: `no kernel headers for BCC (${build} missing; apt-get install linux-headers-amd64)` };
  // Debian splits the generated (arch) and common halves; BCC wants one directory, so merge them as symlinks.
  const tree = join(work, "kheaders");
  mkdirSync(tree);
  execFileSync("cp", ["-rs", `/usr/src/${common}/.`, tree]);
  execFileSync("cp", ["-rsf", `/usr/src/${arch}/.`, tree]);
  return { env: { BCC_KERNEL_SOURCE: tree }, note: `BCC_KERNEL_SOURCE=${arch}+${common} (not the running kernel's headers)` };
}

function build(work: string): { loadgen: string; obj: string; libbpf?: string; notes: string[] } {
  const notes: string[] = [];
  const loadgen = join(work, "loadgen"), obj = join(work, "events.bpf.o"), libbpf = join(work, "libbpf_consumer");
  execFileSync("gcc", ["-O2", "-o", loadgen, join(srcDir, "loadgen.c")], { stdio: "inherit" });
  execFileSync("clang", ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(srcDir, "events.bpf.c"), "-o", obj],
    { stdio: "inherit" });
  const r = spawnSync("gcc", ["-O2", "-o", libbpf, join(srcDir, "libbpf_consumer.c"), "-lbpf"], { stdio: "inherit" });
  if (r.status !== 0) {
    notes.push("libbpf consumer not built (needs libbpf-dev)");
    return { loadgen, obj, notes };
  }
  return { loadgen, obj, libbpf, notes };
}

class Lines {
  readonly #pending: string[] = [];
  #waiter?: () => void;
  #closed = false;
  constructor(stream: NodeJS.ReadableStream) {
    const rl = createInterface({ input: stream });
    rl.on("line", (l) => {
      this.#pending.push(l);
      this.#waiter?.();
    });
    rl.on("close", () => {
      this.#closed = true;
      this.#waiter?.();
    });
  }
  async expect(re: RegExp, what: string, timeoutMs = 120_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#pending.length) {
        const l = this.#pending.shift()!;
        const m = re.exec(l);
        if (m) return m;
      }
      if (this.#closed) throw new Error(`${what}: process ended before printing ${re}`);
      if (Date.now() > deadline) throw new Error(`${what}: timed out waiting for ${re}`);
      await new Promise<void>((res) => {
        this.#waiter = res;
        setTimeout(res, 200);
      });
    }
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** utime + stime of a process in ms (USER_HZ is 100 on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Consumer {
  name: string;
  mode: "perf" | "ring";
  cmd: string;
  args: (pid: number) => string[];
  env?: Record<string, string>;
}

interface Result {
  name: string;
  mode: string;
  produced: number;
  delivered: number;
  lost: number;
  failed: number;
  genMs: number;
  wallMs: number;
  cpuMs: number;
  cpuUsPerEvent: number;
  wakeups: number;
  cpuUsPerWakeup: number;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null ? Promise.resolve() : new Promise((res) => p.once("exit", () => res()));
}

async function scenario(c: Consumer, loadgen: string, n: number): Promise<Result> {
  const gen = spawn(loadgen, [String(n)], { stdio: ["pipe", "pipe", "inherit"] });
  const genOut = new Lines(gen.stdout);
  const pid = Number((await genOut.expect(/^pid (\d+)/, "loadgen"))[1]);
  const con = spawn(c.cmd, c.args(pid), { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...c.env } });
  const conOut = new Lines(con.stdout);
  try {
    await conOut.expect(/^READY/, c.name);
    const cpu0 = cpuMs(con.pid!);
    gen.stdin.write("go\n");
    const done = await genOut.expect(/^done (\d+) (\d+) (\d+)/, "loadgen", 600_000);
    const start = Number(done[2]), end = Number(done[3]);
    await sleep(500); // the consumer catches up (at most one buffer behind: the rest was dropped)
    con.kill("SIGUSR2"); // end of the main burst: the consumer notes when its last event arrived
    await sleep(50);
    gen.stdin.write("flush\n"); // needs the room made above: flush events carry pending PERF_RECORD_LOST
    await genOut.expect(/^flushed/, "loadgen");
    await sleep(500);
    con.kill("SIGUSR2");
    const res = JSON.parse((await conOut.expect(/^\{.*\}$/, c.name)).input) as {
      delivered: number; lost: number; seen: number; failed: number; lastNs: number; wakeups: number;
    };
    const cpu = cpuMs(con.pid!) - cpu0;
    return {
      name: c.name, mode: c.mode, produced: res.seen, delivered: res.delivered, lost: res.lost, failed: res.failed,
      genMs: (end - start) / 1e6, wallMs: res.lastNs ? (res.lastNs - start) / 1e6 : NaN, cpuMs: cpu,
      cpuUsPerEvent: res.delivered ? (cpu * 1000) / res.delivered : NaN,
      wakeups: res.wakeups, cpuUsPerWakeup: res.wakeups ? (cpu * 1000) / res.wakeups : NaN,
    };
  } finally {
    con.stdin.end();
    gen.stdin.end();
    const t = setTimeout(() => {
      con.kill("SIGKILL");
      gen.kill("SIGKILL");
    }, 10_000);
    await Promise.all([exited(con), exited(gen)]);
    clearTimeout(t);
  }
}

/**
 * tsbcc's drain rate on its own: fill a buffer through BPF_PROG_TEST_RUN (no wakeups), then time consume().
 * Bursts of `records` into a buffer that holds one burst; the first laps are warm-up (they fault the mapping's
 * pages in), the rate is measured over the rest.
 */
function rawDrain(objPath: string, records: number, rounds = 20, warmup = 4): { ring: number[]; perf: number[] } {
  const spec = parseObject(new Uint8Array(readFileSync(objPath)));
  const ringSpec = spec.maps.find((m) => m.name === "ring_events")!;
  ringSpec.maxEntries = 2 ** Math.ceil(Math.log2(records * 32 * 1.1)); // 32 B per ring record (8 header + 24)
  const obj = new LoadedObject(spec, { constants: { target_pid: 0 } });
  const out = { ring: [] as number[], perf: [] as number[] };
  const dataIn = new Uint8Array(64);
  let n = 0;
  const count = () => void n++;
  const measure = (progFd: number, drain: () => void, into: number[], what: string) => {
    for (let round = 0; round < rounds; round++) {
      bpf.progTestRun({ progFd, dataIn, repeat: records });
      n = 0;
      const t0 = performance.now();
      drain();
      const ms = performance.now() - t0;
      if (n !== records) throw new Error(`raw ${what} drain: ${n} of ${records} records`);
      if (round >= warmup) into.push(n / ms / 1000);
    }
  };
  try {
    const ring = new RingBufferManager().add(obj.maps.get("ring_events")!.fd.value, count);
    measure(obj.loadProgram("testrun_ring").fd.value, () => ring.consume(), out.ring, "ring");
    ring.close();
    // 40 B per perf record (8 header + 4 size + 24 data + 4 pad). Records land on the test-run CPU's ring.
    const pageCnt = 2 ** Math.ceil(Math.log2((records * 40 * 1.1) / PAGE));
    const perf = openPerfBuffer(obj.maps.get("perf_events")!.fd.value, count, { pageCnt, wakeupEvents: 1 << 30 });
    measure(obj.loadProgram("testrun_perf").fd.value, () => {
      while (perf.consume() > 0);
    }, out.perf, "perf");
    perf.close();
  } finally {
    obj.close();
  }
  return out;
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "-");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "consumer") {
    await consumer(argv[1]!, Number(argv[2]), Number(argv[3]), argv[4]!, (argv[5] ?? "epoll") as WatchStrategy);
    return;
  }
  if (argv[0] === "consumer-api") {
    await apiConsumer(argv[1]!, Number(argv[2]), Number(argv[3]));
    return;
  }
  if (process.getuid?.() !== 0) throw new Error("bench:events needs root (bpf, perf_event_open)");
  const a = parseArgs(argv);
  const work = mkdtempSync(join(tmpdir(), "tsbcc-bench-events-"));
  try {
    const b = build(work);
    const notes = [...b.notes];
    const consumers: Consumer[] = [];
    const self = fileURLToPath(import.meta.url);
    // e.g. EVENTS_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the tsbcc consumers
    const nodeArgs = (process.env.EVENTS_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const pagesFor = (mode: string) => String(mode === "ring" ? a.ringPages : a.perfPages);
    const bccPython = "/usr/bin/python3";
    if (have(bccPython, ["-c", "import bcc"])) {
      const h = bccHeaders(work);
      if ("error" in h) notes.push(`BCC skipped: ${h.error}`);
      else {
        notes.push(`BCC: ${h.note}`);
        for (const mode of ["perf", "ring"] as const) {
          consumers.push({ name: "bcc-python", mode, cmd: bccPython, args: (pid) => [join(srcDir, "bcc_consumer.py"), mode, String(pid), pagesFor(mode)], env: h.env });
        }
      }
    } else notes.push("BCC skipped: python3-bpfcc not importable by /usr/bin/python3");
    for (const mode of ["perf", "ring"] as const) {
      if (b.libbpf) consumers.push({ name: "libbpf-c", mode, cmd: b.libbpf, args: (pid) => [b.obj, mode, String(pid), pagesFor(mode)] });
      consumers.push({ name: "tsbcc-api", mode, cmd: process.execPath, args: (pid) => [...nodeArgs, self, "consumer-api", mode, String(pid), pagesFor(mode)] });
      for (const watch of ["epoll", "per-fd"]) {
        consumers.push({ name: `tsbcc-elf-${watch}`, mode, cmd: process.execPath,
          args: (pid) => [...nodeArgs, self, "consumer", mode, String(pid), pagesFor(mode), b.obj, watch] });
      }
    }
    const modeArg = process.argv.includes("--mode") ? process.argv[process.argv.indexOf("--mode") + 1] : undefined;
    const selected = consumers.filter((c) => (!a.only || [...a.only].some((o) => c.name.startsWith(o))) && (!modeArg || c.mode === modeArg));
    console.log(`# events benchmark: ${fmt(a.n)} getppid() calls, 24-byte events; perf ${a.perfPages} pages/CPU, ` +
      `ring ${a.ringPages} pages; ${onlineCpus().length} CPUs, kernel ${execFileSync("uname", ["-r"]).toString().trim()}, node ${process.version}`);
    for (const note of notes) console.log(`# ${note}`);
    const results: Result[] = [];
    for (const c of selected) {
      try {
        results.push(await scenario(c, b.loadgen, a.n));
      } catch (e) {
        console.log(`# ${c.name} ${c.mode} failed: ${(e as Error).message}`);
      }
    }
    console.log("\n| consumer | buffer | produced | delivered | lost | delivered+lost | loadgen ms | wall ms | CPU ms | CPU µs/event | wakeups | CPU µs/wakeup |");
    console.log("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for (const r of results) {
      const check = r.delivered + r.lost === r.produced ? "= produced" : `≠ (${fmt(r.delivered + r.lost - r.produced)})`;
      console.log(`| ${r.name} | ${r.mode} | ${fmt(r.produced)} | ${fmt(r.delivered)} | ${fmt(r.lost)} | ${check} | ${fmt(r.genMs)} | ` +
        `${fmt(r.wallMs)} | ${fmt(r.cpuMs)} | ${fmt(r.cpuUsPerEvent, 2)} | ${fmt(r.wakeups)} | ${fmt(r.cpuUsPerWakeup, 1)} |`);
    }
    if (!a.only || a.only.has("raw")) {
      const raw = rawDrain(b.obj, a.rawRecords);
      console.log(`\nraw drain (tsbcc, BPF_PROG_TEST_RUN bursts of ${fmt(a.rawRecords)}, counting callback), M records/s, 16 bursts after warm-up:`);
      console.log(`  ring buffer: median ${fmt(median(raw.ring), 1)}, best ${fmt(Math.max(...raw.ring), 1)}  [${raw.ring.map((x) => fmt(x, 1)).join(", ")}]`);
      console.log(`  perf buffer: median ${fmt(median(raw.perf), 1)}, best ${fmt(Math.max(...raw.perf), 1)}  [${raw.perf.map((x) => fmt(x, 1)).join(", ")}]`);
    }
    console.log("\n" + JSON.stringify({ args: { ...a, only: a.only ? [...a.only] : null }, results }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
