// Tier 2: uprobes and uretprobes through the uprobe PMU on a gcc-built target and on libc, counted exactly;
// library lookup, pid filtering, symbol resolution errors, and that tracefs never holds a uprobe of ours.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF } from "../../src/index.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";
import { haveClang, haveGcc } from "../helpers/build.js";
import { buildDlopenTarget, buildRelocatedLib, buildTargets, haveSdt, startTarget } from "../helpers/usdt-targets.js";
import { parseLdCache } from "../../src/symbols/libraries.js";

const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang || !haveGcc ? "needs clang and gcc" : !haveSdt ? "needs sys/sdt.h (systemtap-sdt-dev)" : false;

const COUNT = `
BPF_ARRAY(counts, u64, 1);
BPF_ARRAY(rets, s64, 1);
int on_entry(struct pt_regs *ctx) { int k = 0; u64 *v = counts.lookup(&k); if (v) __sync_fetch_and_add(v, 1); return 0; }
int on_return(struct pt_regs *ctx) { int k = 0; s64 *v = rets.lookup(&k); if (v) __sync_fetch_and_add(v, (s64)PT_REGS_RC(ctx)); return 0; }
`;

function uprobeEvents(): string {
  return readFileSync("/sys/kernel/tracing/uprobe_events", "utf8");
}

async function expectCode(fn: () => unknown, code: string, re?: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof TsbccError, `expected a TsbccError, got ${(e as Error)?.stack}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.fail(`expected ${code}`);
}

test("uprobe counts every call and uretprobe sees every return value", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: COUNT });
    const before = BPF.numOpenUprobes();
    b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_entry", pid: t.pid });
    b.attachUretprobe({ name: target, sym: "tsbcc_target", fnName: "on_return", pid: t.pid });
    assert.equal(BPF.numOpenUprobes(), before + 2);
    const sum = await t.send("c 1000");
    assert.equal(b.table("counts").get(0), 1000n);
    assert.equal(BigInt(b.table("rets").get(0)), sum, "sum of return values = what the program computed");
    assert.equal(sum, BigInt(Array.from({ length: 1000 }, (_, i) => i * 3 - 7).reduce((a, x) => a + x, 0)));
    assert.doesNotMatch(uprobeEvents(), /tsbcc|bcc/, "PMU probes leave no tracefs entry");
    b.detachUprobe({ name: target, sym: "tsbcc_target", pid: t.pid });
    await t.send("c 50");
    assert.equal(b.table("counts").get(0), 1000n, "nothing counted after detach");
    assert.equal(BPF.numOpenUprobes(), before + 1);
  } finally {
    b?.close();
    await t.stop();
  }
});

test("uprobe on libc by library name \"c\", filtered to one pid", { skip }, async () => {
  const libc = BPF.findLibrary("c");
  assert.ok(libc && /libc\.so\.6$/.test(libc), `libc: ${libc}`);
  const ldconfig = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  assert.ok(ldconfig.includes(`=> ${libc}`), "same file as ldconfig -p");
  assert.ok(parseLdCache(new Uint8Array(readFileSync("/etc/ld.so.cache"))).length > 10);
  const { target } = buildTargets();
  const [a, other] = [await startTarget(target), await startTarget(target)];
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: COUNT });
    b.attachUprobe({ name: "c", sym: "getppid", fnName: "on_entry", pid: a.pid });
    await a.send("p 300");
    await other.send("p 500");
    assert.equal(b.table("counts").get(0), 300n, "only the filtered process's calls count");
  } finally {
    b?.close();
    await a.stop();
    await other.stop();
  }
});

test("symRe, addr and symOff name the same instructions as the symbol", { skip }, async () => {
  const { target } = buildTargets();
  const fns = BPF.getUserAddresses(target, "tsbcc_t.*");
  assert.deepEqual(fns.map((f) => f.name), ["tsbcc_target"]);
  assert.deepEqual(BPF.getUserFunctions(target, "tsbcc_(target|forms|spin)").sort(), ["tsbcc_forms", "tsbcc_spin", "tsbcc_target"]);
  const t = await startTarget(target);
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: COUNT });
    b.attachUprobe({ name: `/proc/${t.pid}/exe`, addr: fns[0]!.address, fnName: "on_entry" });
    b.attachUprobe({ pid: t.pid, symRe: "tsbcc_targ.t", fnName: "on_entry" });
    await t.send("c 10");
    assert.equal(b.table("counts").get(0), 20n, "two probes on the same function, each 10");
  } finally {
    b?.close();
    await t.stop();
  }
});

test("uprobe bad input: clear errors, nothing attached", { skip }, async () => {
  const { target } = buildTargets();
  const b = await BPF.load({ text: COUNT });
  const open = BPF.numOpenUprobes();
  try {
    await expectCode(() => b.attachUprobe({ name: "nosuchlibxyz", sym: "f", fnName: "on_entry" }), ErrorCode.NO_SUCH_LIBRARY);
    await expectCode(() => b.attachUprobe({ name: target, sym: "tsbcc_targt", fnName: "on_entry" }), ErrorCode.NO_SUCH_SYMBOL, /did you mean "tsbcc_target"/);
    await expectCode(() => b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_entry", pid: 0x3ffffff0 }), ErrorCode.NO_SUCH_PROCESS);
    const stripped = `${target}.stripped`;
    execFileSync("strip", ["-o", stripped, target]);
    await expectCode(() => b.attachUprobe({ name: stripped, sym: "tsbcc_target", fnName: "on_entry" }), ErrorCode.NO_SYMBOLS, /stripped/);
    await expectCode(() => b.attachUprobe({ name: target, fnName: "on_entry" }), ErrorCode.BAD_ARGUMENT, /exactly one of sym/);
    await expectCode(() => b.attachUprobe({ name: target, sym: "tsbcc_target", symOff: 100000, fnName: "on_entry" }), ErrorCode.BAD_ARGUMENT, /symOff/);
    await expectCode(() => b.attachUprobe({ name: target, symRe: "(", fnName: "on_entry" }), ErrorCode.BAD_ARGUMENT);
    await expectCode(() => b.attachUprobe({ name: target, symRe: "zzz_none", fnName: "on_entry" }), ErrorCode.NO_SUCH_SYMBOL);
    await expectCode(() => b.attachUprobe({ name: target, addr: 0x7fffffff0n, fnName: "on_entry" }), ErrorCode.NO_SUCH_SYMBOL, /loadable segment/);
    await expectCode(() => b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_entry", pid: -7 }), ErrorCode.BAD_ARGUMENT);
    await expectCode(() => b.attachUprobe({ sym: "tsbcc_target", fnName: "on_entry" }), ErrorCode.BAD_ARGUMENT, /name/);
    assert.throws(() => b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "no_such_fn" }), /no function "no_such_fn"/);
    assert.throws(() => b.attachUretprobe({ name: target, sym: "tsbcc_target", symOff: 4, fnName: "on_return" }), /symOff/);
    assert.throws(() => b.detachUprobe({ name: target, sym: "tsbcc_target" }), /not attached/);
    assert.equal(BPF.findLibrary("nosuchlibxyz"), undefined);
    assert.equal(BPF.numOpenUprobes(), open, "nothing left open");
  } finally {
    b.close();
  }
});

test("a library linked at another base: symbol address -> file offset through its PT_LOAD segment", { skip }, async () => {
  const lib = buildRelocatedLib();
  const fn = BPF.getUserAddresses(lib, "tsbcc_reloc")[0]!;
  assert.ok(fn.address >= 0x2000000n && fn.offset < 0x2000000n, `address 0x${fn.address.toString(16)}, offset 0x${fn.offset.toString(16)}`);
  const t = await startTarget(buildDlopenTarget(), [lib]);
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: COUNT });
    b.attachUprobe({ name: lib, sym: "tsbcc_reloc", fnName: "on_entry" });
    await t.send("c 77");
    assert.equal(b.table("counts").get(0), 77n);
  } finally {
    b?.close();
    await t.stop();
  }
});

test("a binary inside another mount namespace resolves through /proc/PID/root", { skip }, async () => {
  const { target } = buildTargets();
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-ns-"));
  // The namespace mounts a tmpfs over `dir` and runs a private copy of the target from it: the host sees an
  // empty directory there, the uprobe must go through the process's root.
  const t = await startTarget("unshare", ["-m", "sh", "-c", `mount -t tmpfs none ${dir} && cp ${target} ${dir}/t && exec ${dir}/t`]);
  let b: BPF | undefined;
  try {
    b = await BPF.load({ text: COUNT });
    await expectCode(() => b!.attachUprobe({ name: `${dir}/t`, sym: "tsbcc_target", fnName: "on_entry" }), ErrorCode.NO_SUCH_LIBRARY);
    b.attachUprobe({ name: `${dir}/t`, sym: "tsbcc_target", fnName: "on_entry", pid: t.pid });
    await t.send("c 33");
    assert.equal(b.table("counts").get(0), 33n);
  } finally {
    b?.close();
    await t.stop();
    rmdirSync(dir);
  }
});
