// Runs inside the VM guest (see docs/VM.md): on Debian's 6.1 kernel, a uprobe counts exactly and a USDT probe
// reads every x86-64 argument form through the cookie-keyed readers, with its semaphore held by the kernel's
// uprobe reference counter only while attached (BPF cookies on perf-event links need 5.15; 6.1 has them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../../src/api/bpf.js";
import { USDT } from "../../../src/usdt/index.js";
import { haveGcc } from "../../helpers/build.js";
import { buildTargets, FORMS_EXPECTED, haveSdt, startTarget } from "../../helpers/usdt-targets.js";

const PROGRAM = `
BPF_ARRAY(vals, s64, 16);
BPF_ARRAY(calls, u64, 1);
static __always_inline void one(struct pt_regs *ctx, int n) {
  s64 v = -1;
  if (bpf_usdt_readarg(n, ctx, &v)) v = 0x7eadbeef;
  int k = n - 1;
  vals.update(&k, &v);
}
int on_forms(struct pt_regs *ctx) {
  one(ctx, 1); one(ctx, 2); one(ctx, 3); one(ctx, 4); one(ctx, 5); one(ctx, 6); one(ctx, 7);
  one(ctx, 8); one(ctx, 9); one(ctx, 10); one(ctx, 11); one(ctx, 12); one(ctx, 13); one(ctx, 14);
  return 0;
}
int on_tick(struct pt_regs *ctx) { return 0; }
int on_call(struct pt_regs *ctx) { int k = 0; u64 *c = calls.lookup(&k); if (c) __sync_fetch_and_add(c, 1); return 0; }
`;

test("6.1 guest: uprobe counts, USDT argument forms and a kernel-held semaphore", { timeout: 600_000 }, async (t) => {
  if (process.env.TSBCC_VM !== "1") return t.skip("not inside the VM guest (TSBCC_VM unset): run with `node dist/test/vm/run-vm-tier.js`");
  if (!haveGcc || !haveSdt) return t.skip("needs gcc and sys/sdt.h (systemtap-sdt-dev) to build the target");
  const { target } = buildTargets();
  const p = await startTarget(target);
  let b: BPF | undefined;
  try {
    const u = new USDT({ pid: p.pid }).enableProbe({ probe: "tsbcc:forms", fnName: "on_forms" }).enableProbe({ probe: "tick", fnName: "on_tick" });
    b = await BPF.load({ text: PROGRAM, usdtContexts: [u] });
    b.attachUprobe({ name: target, sym: "tsbcc_target", fnName: "on_call", pid: p.pid });
    await p.send("c 250");
    assert.equal(b.table("calls").get(0), 250n);
    await p.send("f");
    assert.deepEqual(FORMS_EXPECTED.map((_, i) => BigInt(b!.table("vals").get(i))), FORMS_EXPECTED);
    assert.equal(await p.send("s"), 2n, "semaphore held once per attached tick location");
    b.close();
    b = undefined;
    assert.equal(await p.send("s"), 0n, "released on close");
  } finally {
    b?.close();
    await p.stop();
  }
});
