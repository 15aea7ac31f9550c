// Tier 1: user-space symbolization of live processes through /proc (no BPF): addresses in a running test
// program, a process that exited after it was first seen, a stripped program through the debug root, libc in this
// process, and the bad inputs (unknown pid, dead pid never seen, garbage addresses).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { Symbolizer, UNKNOWN } from "../../src/symbols/index.js";
import { buildFixtures, fixtureSkip, symbolAddress, type Fixtures } from "../helpers/symbol-fixtures.js";

const skip = fixtureSkip ? `${fixtureSkip} is not installed` : false;
let fx: Fixtures;
before(() => { if (!skip) fx = buildFixtures(); });
after(() => { if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

/** Starts `bin` paused on stdin (the chain program waits for one byte); `finish()` lets it exit and reaps it. */
function paused(bin: string): { pid: number; child: ChildProcess; finish(): Promise<void> } {
  const child = spawn(bin, ["1"], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return { pid: child.pid!, child, finish: () => { child.stdin!.end("x"); return exited; } };
}

/** Run-time address of `fn` computed independently: load base (mapping of file offset 0) + link-time address. */
function runtimeAddress(pid: number, bin: string, fn: string): bigint {
  const line = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").find((l) => l.endsWith(bin) && / 00000000 /.test(l))!;
  return BigInt(`0x${line.split("-")[0]}`) + symbolAddress(bin, fn);
}

async function waitForMaps(pid: number, bin: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (readFileSync(`/proc/${pid}/maps`, "utf8").includes(bin)) return;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${bin} never mapped in ${pid}`);
}

test("a running program: its functions by address, with offset and module; names back to run-time addresses", { skip }, async () => {
  const p = paused(fx.chain);
  try {
    await waitForMaps(p.pid, fx.chain);
    const s = new Symbolizer();
    const at = runtimeAddress(p.pid, fx.chain, "tsbcc_level_b");
    assert.equal(s.sym(at, p.pid), "tsbcc_level_b");
    assert.equal(s.sym(at + 3n, p.pid, { showOffset: true, showModule: true }), "tsbcc_level_b+0x3 [chain]");
    assert.equal(s.sym(Number(at) + 3, p.pid), "tsbcc_level_b");
    assert.equal(s.symName("tsbcc_level_b", p.pid), at);
    assert.equal(s.symName("tsbcc_level_b", p.pid, { module: "chain" }), at);
    assert.equal(s.symName("tsbcc_level_b", p.pid, { module: "libc.so.6" }), -1n);
    assert.equal(s.symName("no_such_function_anywhere", p.pid), -1n);
  } finally {
    await p.finish();
  }
});

test("a process that exited after it was first seen still symbolizes; one never seen is [unknown]", { skip }, async () => {
  const s = new Symbolizer();
  const seen = paused(fx.chain);
  const unseen = paused(fx.chain);
  await waitForMaps(seen.pid, fx.chain);
  await waitForMaps(unseen.pid, fx.chain);
  const at = runtimeAddress(seen.pid, fx.chain, "tsbcc_level_a");
  const atUnseen = runtimeAddress(unseen.pid, fx.chain, "tsbcc_level_a");
  assert.equal(s.rememberProcess(seen.pid), true);
  await seen.finish();
  await unseen.finish();
  assert.throws(() => readFileSync(`/proc/${seen.pid}/maps`));
  assert.equal(s.sym(at + 1n, seen.pid, { showModule: true }), "tsbcc_level_a [chain]");
  assert.equal(s.sym(atUnseen + 1n, unseen.pid), UNKNOWN);
  assert.equal(s.symName("tsbcc_level_a", unseen.pid), -1n);
  assert.equal(s.rememberProcess(unseen.pid), false);
});

test("a stripped running program symbolizes through the build-id debug file of the configured debug root", { skip }, async () => {
  const p = paused(fx.strippedByBuildId);
  try {
    await waitForMaps(p.pid, fx.strippedByBuildId);
    const line = readFileSync(`/proc/${p.pid}/maps`, "utf8").split("\n").find((l) => l.endsWith(fx.strippedByBuildId))!;
    const at = BigInt(`0x${line.split("-")[0]}`) + symbolAddress(fx.chain, "tsbcc_level_c") + 2n;
    assert.equal(new Symbolizer({ debugRoot: fx.debugRoot }).sym(at, p.pid), "tsbcc_level_c");
    assert.equal(new Symbolizer({ debugRoot: `${fx.dir}/no-such-root` }).sym(at, p.pid, { showModule: true }),
      "[unknown] [chain-stripped]");
  } finally {
    await p.finish();
  }
});

test("libc in this process: getpid's address and name agree", () => {
  const s = new Symbolizer();
  const at = s.symName("getpid", process.pid, { module: "libc.so.6" });
  assert.ok(at > 0n, "getpid found in libc");
  assert.match(s.sym(at, process.pid, { showModule: true }), /getpid \[libc\.so\.6\]$/);
});

test("garbage addresses and unknown pids give [unknown], never an exception", () => {
  const s = new Symbolizer();
  for (const addr of [0n, 1n, 0x1000n, 1n << 52n, (1n << 64n) - 1n, 0xffffffff81000000n]) {
    assert.equal(s.sym(addr, process.pid), UNKNOWN, `address ${addr}`);
  }
  const noSuchPid = 0x3fffff + 7; // above pid_max's limit (2^22), so never a live process
  assert.equal(s.sym(0x400000n, noSuchPid), UNKNOWN);
  assert.equal(s.symName("main", noSuchPid), -1n);
  assert.equal(s.rememberProcess(noSuchPid), false);
  s.forgetProcess(noSuchPid);
});
