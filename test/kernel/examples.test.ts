// Tier 2: the programs in examples/ run as their users would run them (node dist/examples/<name>.js
// --duration N), we cause the event each one traces, and check the values it prints. Sequential on
// purpose: several examples read trace_pipe, which the kernel lets only one process open at a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { missing } from "../helpers/root.js";
import { diskOf } from "../helpers/disk.js";

const here = dirname(fileURLToPath(import.meta.url));
const examplesDir = join(here, "../../examples");
const skip = missing("clang", "root");
const DURATION = 5;

interface Ran { out: string; err: string; code: number | null }

/**
 * Runs an example, calls `trigger` once it printed its first line (it is attached), returns its output. The kernel
 * admits one trace_pipe reader: while another program holds it (another test run on this machine), the example
 * fails with EBUSY; it is run again for up to 30 s before the test gives up (and skips, saying so).
 */
async function runExample(name: string, trigger: () => Promise<void>, extra: string[] = []): Promise<Ran> {
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await runExampleOnce(name, trigger, extra);
    if (!/EBUSY/.test(r.err) || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function runExampleOnce(name: string, trigger: () => Promise<void>, extra: string[]): Promise<Ran> {
  const child = spawn(process.execPath, [join(examplesDir, `${name}.js`), "--duration", String(DURATION), ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !out.includes("\n")) await new Promise((r) => setTimeout(r, 25));
  if (!done) await trigger();
  const code = await exited;
  return { out, err, code };
}

/** Runs a command to completion and returns its pid. */
function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: "ignore" });
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve(c.pid!) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

function ok(t: { skip(msg: string): void }, r: Ran): boolean {
  if (/EBUSY/.test(r.err)) {
    t.skip("trace_pipe was held by another process (EBUSY) for 30 s");
    return false;
  }
  assert.equal(r.code, 0, `example failed:\n${r.err}`);
  return true;
}

// bash forks (a clone from its own pid) for each command; dash would use vfork, which has its own tracepoint.
const cloneTrigger = (): Promise<number> => run("/bin/bash", ["-c", "/bin/true; /bin/true; exit 0"]);

test("examples", { skip, concurrency: 1 }, async (t) => {
  await t.test("hello-world prints Hello, World! for a clone from our bash", async (t) => {
    let sh = 0;
    const r = await runExample("hello-world", async () => { sh = await cloneTrigger(); await new Promise((r) => setTimeout(r, 300)); });
    if (!ok(t, r)) return;
    assert.match(r.out, /^Tracing clone\(\)/);
    const line = r.out.split("\n").find((l) => new RegExp(`-${sh}\\s+\\[\\d+\\].*Hello, World!`).test(l));
    assert.ok(line, `no hello from pid ${sh} in:\n${r.out.slice(0, 2000)}`);
  });

  await t.test("hello-fields prints TIME(s) COMM PID MESSAGE columns", async (t) => {
    let sh = 0;
    const r = await runExample("hello-fields", async () => { sh = await cloneTrigger(); await new Promise((r) => setTimeout(r, 300)); });
    if (!ok(t, r)) return;
    const lines = r.out.split("\n");
    assert.match(lines[0], /^TIME\(s\) +COMM +PID +MESSAGE$/);
    const row = lines.map((l) => l.trim().split(/\s+/)).find((c) => Number(c[2]) === sh);
    assert.ok(row, `no row for pid ${sh} in:\n${r.out.slice(0, 2000)}`);
    assert.match(row![0], /^\d+\.\d{9}$/);
    // trace_pipe names the task from the kernel's saved-cmdlines cache, which can still hold the name the pid had
    // before it exec'd bash (node, which spawned it).
    assert.match(row![1], /^(bash|node)$/);
    assert.equal(row!.slice(3).join(" "), "Hello, World!");
  });

  await t.test("sync-timing reports the gap between two quick syncs", async (t) => {
    const r = await runExample("sync-timing", async () => {
      await run("sync", []);
      await run("sync", []);
      await new Promise((r) => setTimeout(r, 300));
    });
    if (!ok(t, r)) return;
    const m = /At time \d+\.\d+ s: multiple syncs detected, last (\d+) ms ago/.exec(r.out);
    assert.ok(m, `no quick sync reported in:\n${r.out}`);
    assert.ok(Number(m![1]) < 1000);
  });

  await t.test("sync-count counts our sync() calls", async (t) => {
    const k = 3;
    const r = await runExample("sync-count", async () => { for (let i = 0; i < k; i++) await run("sync", []); });
    if (!ok(t, r)) return;
    const m = /sync\(\) calls: (\d+)/.exec(r.out);
    assert.ok(m, r.out);
    // Other processes may sync too: at least ours are counted.
    assert.ok(Number(m![1]) >= k, `count ${m![1]} < ${k}`);
  });

  await t.test("hello-perf-output delivers {pid, ts, comm} structs", async (t) => {
    let sh = 0;
    const r = await runExample("hello-perf-output", async () => { sh = await cloneTrigger(); });
    if (!ok(t, r)) return;
    const lines = r.out.split("\n");
    assert.match(lines[0], /^TIME\(s\) +COMM +PID +MESSAGE$/);
    const row = lines.map((l) => l.trim().split(/\s+/)).find((c) => Number(c[2]) === sh);
    assert.ok(row, `no event for pid ${sh} in:\n${r.out.slice(0, 2000)}`);
    assert.equal(row![1], "bash");
    assert.equal(row!.slice(3).join(" "), "Hello, perf_output!");
    const times = lines.slice(1).filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.equal(times[0], 0);
    // Each CPU has its own perf ring: events from different CPUs are not ordered by time (as in BCC).
    assert.ok(times.every((x) => Number.isFinite(x)), "every line has a time");
  });

  await t.test("bitehist puts 64 KiB direct writes in the 64 -> 127 bucket", async (t) => {
    // Only a directory on a block device sees block I/O (probed through /sys/dev/block, not tmpfs or overlay);
    // once one is found, an empty histogram is a failure.
    const candidates = ["/var/tmp", "/tmp", join(here, "../..")].filter((d) => existsSync(d));
    const dir = candidates.find((d) => "disk" in diskOf(d));
    if (!dir) return t.skip(`no directory on a block device: ${candidates.map((d) => (diskOf(d) as { reason: string }).reason).join("; ")}`);
    const work = mkdtempSync(join(dir, "tsbcc-bitehist-"));
    try {
      const count = 16;
      const r = await runExample("bitehist", async () => {
        const dd = spawnSync("dd", ["if=/dev/zero", `of=${join(work, "f")}`, "bs=64k", `count=${count}`, "oflag=direct", "conv=fsync"]);
        if (dd.status !== 0) throw new Error(`dd failed: ${dd.stderr}`);
      });
      if (!ok(t, r)) return;
      assert.match(r.out, /kbytes +: count +distribution/);
      const m = /^\s*64 -> 127\s*: (\d+)/m.exec(r.out);
      assert.ok(m, r.out);
      assert.ok(Number(m![1]) >= count, `64 -> 127 holds ${m![1]}, expected >= ${count}:\n${r.out}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  await t.test("urandomread shows a getrandom() of 40 bytes as 320 bits", async (t) => {
    if (spawnSync("python3", ["-c", "import os; os.getrandom(1)"]).status !== 0) return t.skip("python3 with os.getrandom is needed");
    let py = 0;
    const r = await runExample("urandomread", async () => {
      py = await run("python3", ["-c", "import os; os.getrandom(40)"]);
      await new Promise((r) => setTimeout(r, 300));
    });
    if (!ok(t, r)) return;
    const rows = r.out.split("\n").map((l) => l.trim().split(/\s+/)).filter((c) => Number(c[2]) === py);
    assert.ok(rows.some((c) => c[3] === "320"), `no 320-bit read from pid ${py} in:\n${r.out.slice(0, 3000)}`);
  });

  await t.test("task-switch counts switches involving a process we start", async (t) => {
    let pid = 0;
    const r = await runExample("task-switch", async () => { pid = await run("sleep", ["0.2"]); }, ["--top", "1000000"]);
    if (!ok(t, r)) return;
    const lines = r.out.split("\n");
    assert.match(lines[1], /^PREV_PID +NEXT_PID +COUNT$/);
    const rows = lines.slice(2).filter((l) => /^\s*\d+\s+\d+\s+\d+$/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
    assert.ok(rows.length > 0);
    assert.ok(rows.every((row, i) => i === 0 || row[2] <= rows[i - 1][2]), "sorted by count");
    assert.ok(rows.some(([p, n]) => p === pid || n === pid), `pid ${pid} never switched`);
    assert.match(r.out, new RegExp(`^${rows.length} distinct pairs$`, "m"));
  });

  await t.test("execve-snooper shows our /bin/true with its parent", async (t) => {
    let pid = 0;
    const r = await runExample("execve-snooper", async () => { pid = await run("/bin/true", []); });
    if (!ok(t, r)) return;
    const lines = r.out.split("\n");
    assert.match(lines[0], /^PID +PPID +COMM +FILENAME$/);
    const row = lines.map((l) => l.trim().split(/\s+/)).find((c) => Number(c[0]) === pid);
    assert.ok(row, `no exec of pid ${pid} in:\n${r.out.slice(0, 2000)}`);
    assert.equal(Number(row![1]), process.pid);
    assert.equal(row![3], "/bin/true");
  });
});
