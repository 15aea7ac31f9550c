// Tier 2: USDT probes on a gcc-built target: every x86-64 argument form reads the right value, a probe with two
// locations, a probe in a shared library of the process, semaphores counted by the kernel (the guarded probe
// fires only while attached), listings, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF, USDT } from "../../src/index.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";
import { haveClang, haveGcc } from "../helpers/build.js";
import { buildProbeTarget, buildTargets, FORMS_EXPECTED, haveSdt, startTarget } from "../helpers/usdt-targets.js";

const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang || !haveGcc ? "needs clang and gcc" : !haveSdt ? "needs sys/sdt.h (systemtap-sdt-dev)" : false;

const FORMS = `
BPF_ARRAY(vals, s64, 16);
BPF_ARRAY(status, s64, 16);
static __always_inline void one(struct pt_regs *ctx, int n) {
  s64 v = 0;
  int r = bpf_usdt_readarg(n, ctx, &v);
  int k = n - 1;
  vals.update(&k, &v);
  s64 rr = r;
  status.update(&k, &rr);
}
int on_forms(struct pt_regs *ctx) {
  one(ctx, 1); one(ctx, 2); one(ctx, 3); one(ctx, 4); one(ctx, 5); one(ctx, 6); one(ctx, 7);
  one(ctx, 8); one(ctx, 9); one(ctx, 10); one(ctx, 11); one(ctx, 12); one(ctx, 13); one(ctx, 14);
  return 0;
}
`;

test("every argument form of a USDT probe reads the value the program put there", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  let b: BPF | undefined;
  try {
    const u = new USDT({ pid: t.pid }).enableProbe({ probe: "tsbcc:forms", fnName: "on_forms" });
    b = await BPF.load({ text: FORMS, usdtContexts: [u] });
    await t.send("f");
    const got = FORMS_EXPECTED.map((_, i) => BigInt(b!.table("status").get(i)));
    assert.deepEqual(got, FORMS_EXPECTED.map(() => 0n), "every read succeeded");
    const vals = FORMS_EXPECTED.map((_, i) => BigInt(b!.table("vals").get(i)));
    assert.deepEqual(vals, FORMS_EXPECTED);
  } finally {
    b?.close();
    await t.stop();
  }
});

const TICK = `
BPF_ARRAY(counts, u64, 4);
int on_tick(struct pt_regs *ctx) {
  long i = 0; int which = 0;
  bpf_usdt_readarg(1, ctx, &i);
  bpf_usdt_readarg(2, ctx, &which);
  u32 k = which & 3;
  u64 *c = counts.lookup(&k); if (c) __sync_fetch_and_add(c, 1);
  k = 0; c = counts.lookup(&k); if (c) __sync_fetch_and_add(c, i);
  return 0;
}
`;

test("a semaphore-guarded probe with two locations fires only while attached", { skip }, async () => {
  const { target } = buildTargets();
  const t = await startTarget(target);
  try {
    assert.equal(await t.send("u 100"), 0n, "not attached: the semaphore is 0, the guarded sites are skipped");
    const u = new USDT({ path: target }).enableProbe({ probe: "tick", fnName: "on_tick" });
    assert.equal(u.enabled()[0]!.probe.locations.length, 2);
    const b = await BPF.load({ text: TICK, usdtContexts: [u] });
    try {
      assert.equal(await t.send("s"), 2n, "the kernel incremented the semaphore once per attached location");
      assert.equal(await t.send("u 100"), 100n);
      assert.equal(await t.send("v 30"), 130n);
      const c = b.table("counts");
      assert.equal(c.get(1), 100n, "location 1 (second argument 1)");
      assert.equal(c.get(2), 30n, "location 2 (second argument 2)");
      assert.equal(c.get(0), BigInt(99 * 100 / 2 + 29 * 30 / 2), "first argument = the loop index at each hit");
    } finally {
      b.close();
    }
    assert.equal(await t.send("s"), 0n, "semaphore back to 0 after close");
    assert.equal(await t.send("u 10"), 130n, "guarded sites skipped again");
    assert.doesNotMatch(readFileSync("/sys/kernel/tracing/uprobe_events", "utf8"), /tsbcc|bcc/);
  } finally {
    await t.stop();
  }
});

const HELLO = `
BPF_ARRAY(sum, u64, 2);
int on_hello(struct pt_regs *ctx) {
  u64 x = 0; bpf_usdt_readarg(1, ctx, &x);
  u32 k = 0; u64 *s = sum.lookup(&k); if (s) __sync_fetch_and_add(s, x);
  k = 1; s = sum.lookup(&k); if (s) __sync_fetch_and_add(s, 1);
  return 0;
}
`;

test("a probe in a shared library of a pid; another process using the library is not traced", { skip }, async () => {
  const { target, lib } = buildTargets();
  const [t, other] = [await startTarget(target), await startTarget(target)];
  try {
    const probes = USDT.listProbes(t.pid);
    const names = probes.map((p) => `${p.provider}:${p.name}`).sort();
    assert.deepEqual(names, ["tsbcc:forms", "tsbcc:tick", "tsbcc_lib:hello"]);
    assert.match(USDT.formatProbes(USDT.listProbes(lib), true), /tsbcc_lib:hello\n {2}1 location\(s\), 1 argument\(s\), semaphore/);
    const u = new USDT({ pid: t.pid }).enableProbe({ probe: "tsbcc_lib:hello", fnName: "on_hello" });
    const b = await BPF.load({ text: HELLO, usdtContexts: [u] });
    try {
      await t.send("l 20");
      await other.send("l 50");
      assert.equal(b.table("sum").get(1), 20n);
      assert.equal(b.table("sum").get(0), BigInt(10 * (19 * 20) / 2));
      assert.equal(await other.send("s"), 0n);
    } finally {
      b.close();
    }
  } finally {
    await t.stop();
    await other.stop();
  }
});

test("USDT bad input: clear errors, nothing left attached", { skip }, async () => {
  const { target } = buildTargets();
  const code = (fn: () => unknown, c: string, re?: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof TsbccError && e.code === c && (!re || re.test(e.message)));
  };
  code(() => new USDT({}), ErrorCode.BAD_ARGUMENT);
  code(() => new USDT({ pid: 0x3ffffff0 }), ErrorCode.NO_SUCH_PROCESS);
  code(() => new USDT({ path: "/nonexistent/bin" }), ErrorCode.NO_SUCH_LIBRARY);
  const u = new USDT({ path: target });
  code(() => u.enableProbe({ probe: "tik", fnName: "f" }), ErrorCode.NO_SUCH_PROBE, /did you mean "tick"/);
  code(() => u.enableProbe({ probe: "other:tick", fnName: "f" }), ErrorCode.NO_SUCH_PROBE);
  code(() => u.enableProbe({ probe: "tick", fnName: "1bad" }), ErrorCode.BAD_ARGUMENT);
  code(() => new USDT({ path: "/bin/true" }).enableProbe({ probe: "x", fnName: "f" }), ErrorCode.NO_SUCH_PROBE, /no USDT probes at all/);
  code(() => USDT.listProbes(""), ErrorCode.BAD_ARGUMENT);
  u.enableProbe({ probe: "tick", fnName: "on_tick" });
  code(() => u.enableProbe({ probe: "tsbcc:tick", fnName: "on_tick" }), ErrorCode.BAD_ARGUMENT, /already enabled/);
  const open = BPF.numOpenUprobes();
  // The program lacks the function the probe is bound to: the load fails and nothing stays attached.
  await assert.rejects(BPF.load({ text: HELLO, usdtContexts: [u] }), /no function "on_tick"/);
  await assert.rejects(BPF.load({ text: HELLO, usdtContexts: [{} as USDT] }), (e: unknown) => e instanceof TsbccError && e.code === ErrorCode.BAD_ARGUMENT);
  // Without contexts, bpf_usdt_readarg is named in the compile error.
  await assert.rejects(BPF.load({ text: HELLO }), /bpf_usdt_readarg/);
  assert.equal(BPF.numOpenUprobes(), open);
});

/** A tsbcc process that attaches the tick probe (semaphore) of `target` and a uprobe, then waits to be killed. */
function attacher(target: string): string {
  const index = new URL("../../src/index.js", import.meta.url).href;
  const file = join(tmpdir(), `tsbcc-usdt-attacher-${process.pid}.mjs`);
  writeFileSync(file, `import { BPF, USDT } from ${JSON.stringify(index)};
const u = new USDT({ path: ${JSON.stringify(target)} }).enableProbe({ probe: "tick", fnName: "on_tick" });
const b = await BPF.load({ text: ${JSON.stringify(TICK)}, usdtContexts: [u] });
b.attachUprobe({ name: ${JSON.stringify(target)}, sym: "tsbcc_target", fnName: "on_tick" });
process.stdout.write("attached " + BPF.numOpenUprobes() + "\\n");
setInterval(() => {}, 1000);
`);
  return file;
}

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  test(`after ${signal} of the tsbcc process the kernel has removed its uprobes (semaphore back to 0, no tracefs entry)`, { skip }, async () => {
    const { target } = buildTargets();
    const t = await startTarget(target);
    const child = spawn(process.execPath, [attacher(target)], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.once("data", (d) => resolve(String(d)));
        child.once("exit", (c) => reject(new Error(`attacher exited with ${c}`)));
      });
      assert.equal(line.trim(), "attached 3");
      assert.equal(await t.send("s"), 2n, "semaphore held by the two USDT locations");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
      // Uprobes go when their perf event fds close; the semaphore drops as each uprobe is unregistered.
      let sem = -1n;
      for (let i = 0; i < 500 && sem !== 0n; i++) { // up to 10 s: the unregistering may lag on a loaded machine
        sem = await t.send("s");
        if (sem !== 0n) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(sem, 0n);
      assert.equal(await t.send("u 5"), 0n, "guarded sites skipped: nobody is attached");
      assert.doesNotMatch(readFileSync("/sys/kernel/tracing/uprobe_events", "utf8"), /tsbcc|bcc/);
    } finally {
      child.kill("SIGKILL");
      await t.stop();
    }
  });
}

const STRINGS = `
struct str_t { char s[32]; };
BPF_ARRAY(strs, struct str_t, 2);
BPF_ARRAY(hits, u64, 1);
int on_call(struct pt_regs *ctx) {
  struct str_t v = {};
  int k = 0;
  if (bpf_usdt_readarg_p(1, ctx, &v.s, sizeof(v.s)) == 0) strs.update(&k, &v);
  k = 1;
  struct str_t w = {};
  if (bpf_usdt_readarg_p(3, ctx, &w.s, sizeof(w.s)) == 0) strs.update(&k, &w);
  k = 0;
  u64 *h = hits.lookup(&k); if (h) __sync_fetch_and_add(h, 1);
  return 0;
}
`;

test("bpf_usdt_readarg_p copies the strings a probe points at, in processes started after the attach", { skip }, async () => {
  const bin = buildProbeTarget(["method__entry"]);
  const u = new USDT({ path: bin }).enableProbe({ probe: "method__entry", fnName: "on_call" });
  const b = await BPF.load({ text: STRINGS, usdtContexts: [u] });
  try {
    execFileSync(bin, ["3"]);
    assert.equal(b.table("hits").get(0), 3n, "the kernel set the semaphore in the new process");
    const text = (i: number): string => Buffer.from(b.table("strs").get(i).s as number[]).toString("latin1").replace(/\0.*$/s, "");
    assert.equal(text(0), "java/lang/Thread");
    assert.equal(text(1), "run");
  } finally {
    b.close();
  }
});
