// Tier 2: trace's BCC options against a test binary's known calls (tsbcc_work(i, i*10) from tsbcc_driver, then
// getpid(), i = 1..N): -U names the binary's caller functions under each line and -a prints addresses that are the
// binary's `nm` values plus one load base; -K shows the syscall path of getpid; -t/-C columns; -n keeps the child's
// comm only; -f keeps one message; STRCMP (and -B) filters paths; -S (library: includeSelf) decides whether this
// process's own getppid calls show; -c keeps only the child put in a cgroup; -Z cuts strings; -A counts messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { tool } from "../../src/tools/trace.js";
import { trace } from "../../src/tools/index.js";
import { haveGcc, openFiles } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { nmFunctions as nm } from "../helpers/nm.js";
import { startTool, toolSkip, sleepMs, collect } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 5;

test("trace -U -a -t -C -p PID: the binary's callers under each line, addresses = nm + one load base", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const t = startTool(tool, ["-U", "-a", "-t", "-C", "-p", String(child.pid), `p:${caller()}:tsbcc_work "a=%d", arg1`]);
  assert.ok(await t.waitFor(/^TIME {5}CPU PID {5}TID {5}COMM {12}FUNC {13}-\n/), t.err());
  assert.equal(await child.go(), 0);
  await t.waitFor(new RegExp(`a=${N}\\n(.+\\n)+\\n`), 5000);
  assert.equal(await t.stop(), 0);
  const blocks = t.out().split("\n").slice(1).join("\n").trim().split("\n\n");
  assert.equal(blocks.length, N, t.out());
  const syms = nm(caller());
  blocks.forEach((block, i) => {
    const [line, ...frames] = block.split("\n");
    assert.match(line!, new RegExp(`^\\d+\\.\\d{6} \\d+ +${child.pid} +${child.pid} +tsbcccall +tsbcc_work +a=${i + 1}$`));
    const parsed = frames.map((f) => /^ {8}([ 0-9a-f]{16}) (\S+)\+0x([0-9a-f]+) \[(\S+)\]$/.exec(f));
    assert.ok(parsed.every(Boolean), block);
    assert.deepEqual(parsed.slice(0, 3).map((m) => [m![2], m![4]]), [["tsbcc_work", "tsbcccall"], ["tsbcc_driver", "tsbcccall"], ["main", "tsbcccall"]]);
    // Each address minus (the symbol's nm value + its offset) is the same page-aligned load base.
    const bases = parsed.slice(0, 3).map((m) => BigInt(`0x${m![1]!.trim()}`) - syms.get(m![2]!)! - BigInt(`0x${m![3]}`));
    assert.equal(new Set(bases).size, 1, block);
    assert.equal(bases[0]! % 4096n, 0n, block);
  });
});

test("trace -b 1024 -K -n NAME on the getpid tracepoint (all processes): only the child's comm, N lines, each over the syscall path", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const t = startTool(tool, ["-b", "1024", "-K", "-n", "sbcccal", 't:syscalls:sys_enter_getpid "pid"']);
  assert.ok(await t.waitFor(/^PID/), t.err());
  assert.equal(await child.go(), 0);
  await sleepMs(300);
  assert.equal(await t.stop(), 0);
  const blocks = t.out().split("\n").slice(1).join("\n").trim().split("\n\n");
  const mine = blocks.filter((b) => b.startsWith(`${child.pid} `));
  assert.equal(mine.length, N, t.out());
  for (const b of blocks) assert.match(b.split("\n")[0]!, /^\d+ +\d+ +\S*sbcccal\S* +syscalls:sys_enter_getpid +pid$/, t.out());
  for (const b of mine) assert.match(b, /\n {8}do_syscall_64\+0x[0-9a-f]+ \[kernel\]\n/, b);
});

test("trace -f MSG, STRCMP filters (-B too), -A -M: the messages kept", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const fn = `p:${caller()}:tsbcc_work`;
  const t = startTool(tool, ["-p", String(child.pid), "-f", "b=30", `${fn} "a=%d b=%d", arg1, arg2`]);
  assert.ok(await t.waitFor(/^PID/), t.err());
  assert.equal(await child.go(), 0);
  await sleepMs(300);
  assert.equal(await t.stop(), 0);
  assert.deepEqual(t.out().trim().split("\n").slice(1).map((l) => l.replace(/ +/g, " ")), [`${child.pid} ${child.pid} tsbcccall tsbcc_work a=3 b=30`]);

  const paths = ["/tmp/tsbcc-strcmp-yes-1", "/tmp/tsbcc-other", "/tmp/tsbcc-strcmp-yes-2"];
  for (const binCmp of [false, true]) {
    const opener = pausedChild(openFiles(), paths);
    const lit = binCmp ? "{0x2f,0x74,0x6d,0x70,0x2f,0x74,0x73,0x62,0x63,0x63,0x2d,0x73,0}" : "/tmp/tsbcc-s";
    const stream = await trace({ pid: opener.pid, binCmp, duration: 2,
      probes: [`t:syscalls:sys_enter_openat (STRCMP("${lit}", args->filename)) "%s", args->filename`] });
    await opener.go();
    const seen = (await collect(stream)).map((e) => e.message);
    assert.deepEqual(seen, [paths[0], paths[2]], `binCmp ${binCmp}`);
  }

  const again = pausedChild(caller(), [String(N)]);
  const agg = startTool(tool, ["-A", "-M", "4", "-p", String(again.pid), `${fn} "hit"`]);
  assert.ok(await agg.waitFor(/^PID/), agg.err());
  await again.go();
  assert.equal(await agg.done, 0);
  assert.match(agg.out(), new RegExp(`\\n${again.pid} +${again.pid} +tsbcccall +tsbcc_work +hit\\n-->COUNT 4\\n\\n$`));
});

test("trace -S (includeSelf): this process's own getppid calls show only with it; -Z cuts strings", { skip }, async () => {
  for (const includeSelf of [false, true]) {
    const stream = await trace({ includeSelf, duration: 1, probes: [`t:syscalls:sys_enter_getppid ($tgid == ${process.pid}) "self"`] });
    for (let i = 0; i < 7; i++) void process.ppid; // each read is a getppid() system call
    const evs = await collect(stream);
    if (includeSelf) assert.ok(evs.length >= 7 && evs.every((e) => e.pid === process.pid), JSON.stringify(evs.length));
    else assert.equal(evs.length, 0);
  }
  const opener = pausedChild(openFiles(), ["/tmp/tsbcc-cut-here"]);
  const stream = await trace({ pid: opener.pid, stringSize: 8, duration: 2, probes: ['t:syscalls:sys_enter_openat "%s", args->filename'] });
  await opener.go();
  assert.ok((await collect(stream)).some((e) => e.message === "/tmp/ts"));
});

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid setup). */
const cgroup2 = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")?.[1];
const cgroupSkip = skip || (!cgroup2 && "no cgroup v2 mount (see /proc/mounts)");

test("trace -c CGROUP: only the child moved into the cgroup", { skip: cgroupSkip }, async () => {
  const dir = `${cgroup2}/tsbcc-trace-${process.pid}`;
  mkdirSync(dir);
  try {
    const inside = pausedChild(caller(), ["3"]);
    const outside = pausedChild(caller(), ["4"]);
    writeFileSync(`${dir}/cgroup.procs`, String(inside.pid));
    const stream = await trace({ cgroupPath: dir, duration: 2, probes: ['t:syscalls:sys_enter_getpid "x"'] });
    await Promise.all([inside.go(), outside.go()]);
    const evs = await collect(stream);
    assert.equal(evs.length, 3, JSON.stringify(evs.map((e) => [e.pid, e.comm])));
    assert.ok(evs.every((e) => e.pid === inside.pid));
  } finally {
    for (let i = 0; i < 50; i++) {
      try { rmdirSync(dir); break; } catch { await sleepMs(100); }
    }
  }
});

test("trace: wrong input to the new options is a usage error", { skip }, async () => {
  const probe = `p:${caller()}:tsbcc_work`;
  for (const argv of [
    ["-u", probe], ["-A", probe], ["-a", probe], ["-Z", "0", probe], ["-c", "/nonexistent/cgroup", probe],
    ["-B", `${probe} (STRCMP("abc", arg1))`], [`${probe} (STRCMP(abc, arg1))`], ["-b", "3", probe],
  ]) {
    const t = startTool(tool, argv);
    assert.equal(await t.done, 2, `${argv.join(" ")}: ${t.err()}`);
    assert.match(t.err(), /error: /, argv.join(" "));
  }
  await assert.rejects(trace({ probes: [probe], stringSize: 1e6 }), /stringSize must be/);
  await assert.rejects(trace({ probes: [probe], name: "" }), /name must be a non-empty string/);
});
