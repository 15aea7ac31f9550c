// Runs inside the VM guest: MODULE_KFUNC_PROBE on a function of a loadable module (dummy.ko's dummy_setup,
// called once per dummy network device created). The attach target comes from the module's own BTF.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { BPF } from "../../../src/api/bpf.js";

test("MODULE_KFUNC_PROBE on a module function runs once per device the module sets up", { timeout: 120_000 }, async (t) => {
  if (process.env.TSBCC_VM !== "1") {
    t.skip("not inside the VM guest");
    return;
  }
  execFileSync("modprobe", ["dummy"]);
  const b = await BPF.load({
    text: `
BPF_ARRAY(calls, u64, 1);
MODULE_KFUNC_PROBE(dummy, dummy_setup, struct net_device *dev) {
  int zero = 0;
  u64 *n = calls.lookup(&zero);
  if (n && dev) __sync_fetch_and_add(n, 1);
  return 0;
}`,
  });
  try {
    assert.deepEqual(b.functions, ["kfunc__dummy__dummy_setup"]);
    execFileSync("ip", ["link", "add", "tsbcc7", "type", "dummy"]);
    execFileSync("ip", ["link", "add", "tsbcc8", "type", "dummy"]);
    // dummy_setup runs from alloc_netdev before the device has its name, once per device created.
    assert.equal(b.table("calls").get(0), 2n, "dummy_setup ran once for each of the two devices");
  } finally {
    b.close();
    for (const dev of ["tsbcc7", "tsbcc8"]) {
      try {
        execFileSync("ip", ["link", "del", dev]);
      } catch {
        // Not created: the assertion above already failed.
      }
    }
  }
});
