// Runs inside the VM guest (see docs/VM.md): proves the tier really boots its own kernel and that kprobes work there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { release } from "node:os";

const KPROBE_EVENTS = "/sys/kernel/tracing/kprobe_events";

test("the guest runs its own kernel, and that kernel accepts kprobes", (t) => {
  if (process.env.TSBCC_VM !== "1") {
    t.skip("not inside the VM guest (TSBCC_VM unset): run with `node dist/test/vm/run-vm-tier.js`");
    return;
  }
  const hostRelease = process.env.TSBCC_VM_HOST_RELEASE;
  assert.ok(hostRelease, "the VM harness passes the host's kernel release in TSBCC_VM_HOST_RELEASE");
  assert.match(release(), /^\d+\.\d+\.\d+/);
  assert.notEqual(release(), hostRelease, "the guest must not be running the host's kernel");

  assert.ok(existsSync(KPROBE_EVENTS), `${KPROBE_EVENTS} exists only on kernels with kprobe events`);
  // The file existing is not the whole story: register a probe, see it listed, remove it.
  const name = `tsbcc_smoke_${process.pid}`;
  appendFileSync(KPROBE_EVENTS, `p:${name} do_sys_openat2\n`);
  try {
    assert.match(readFileSync(KPROBE_EVENTS, "utf8"), new RegExp(`^p:kprobes/${name} do_sys_openat2$`, "m"));
  } finally {
    appendFileSync(KPROBE_EVENTS, `-:${name}\n`);
  }
  assert.doesNotMatch(readFileSync(KPROBE_EVENTS, "utf8"), new RegExp(name));
});
