// Runs inside the VM guest (see docs/VM.md): kprobes and kretprobes through the perf-event kprobe PMU, autoloaded
// (kprobe__sys_<name>, fixed to the running syscall prefix) and attached by hand, counted exactly, then removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BPF } from "../../../src/api/bpf.js";
import { AttachError } from "../../../src/link/index.js";
import { liveFds } from "../../../src/sys/index.js";
import { haveGcc, syscallLoop } from "../../helpers/build.js";
import { pausedChild } from "../../helpers/child.js";

const KPROBE_LIST = "/sys/kernel/debug/kprobes/list";
const N = 7;

/**
 * Kprobes registered at the function's address. Matched by address, not name: the kprobe list prints the
 * first symbol at an address, which can be an alias (on Debian 6.1, getppid's wrapper shows as another name).
 */
function registered(fn: string): string[] {
  assert.ok(existsSync(KPROBE_LIST), `${KPROBE_LIST} is missing: debugfs not mounted in the guest?`);
  const sym = readFileSync("/proc/kallsyms", "utf8").split("\n").find((l) => l.endsWith(` ${fn}`) && / [tT] /.test(l));
  assert.ok(sym, `${fn} is not in /proc/kallsyms`);
  const addr = BigInt(`0x${sym!.split(" ")[0]}`);
  return readFileSync(KPROBE_LIST, "utf8").split("\n").filter((l) => /^[0-9a-f]+/.test(l) && BigInt(`0x${l.split(/\s+/)[0]}`) === addr);
}

const PROGRAM = `
BPF_HASH(counts, u32, u64);
BPF_HASH(returns, u32, u64);
BPF_HASH(retval, u32, u64);

int kprobe__sys_getppid(struct pt_regs *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != CHILD_PID) return 0;
  counts.increment(pid);
  return 0;
}

int on_return(struct pt_regs *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != CHILD_PID) return 0;
  u64 rc = PT_REGS_RC(ctx);
  retval.update(&pid, &rc);
  returns.increment(pid);
  return 0;
}
`;

test("kprobe and kretprobe on the getppid syscall count a child's calls exactly and go away on close", async (t) => {
  if (process.env.TSBCC_VM !== "1") {
    t.skip("not inside the VM guest (TSBCC_VM unset): run with `node dist/test/vm/run-vm-tier.js`");
    return;
  }
  if (!haveGcc) {
    t.skip("gcc is needed to build the child");
    return;
  }
  assert.ok(BPF.supportKprobes(), "the guest kernel has kprobes");
  assert.equal(BPF.getSyscallPrefix(), "__x64_sys_");
  const fn = BPF.getSyscallFnName("getppid");
  assert.equal(fn, "__x64_sys_getppid");

  const bin = syscallLoop("getppid");
  const before = liveFds().size;
  const child = pausedChild(bin, [String(N)]);
  const b = await BPF.load({ text: PROGRAM.replaceAll("CHILD_PID", String(child.pid)) });
  try {
    b.attachKretprobe({ event: fn, fnName: "on_return" });
    assert.throws(() => b.attachKretprobe({ event: fn, fnName: "on_return" }), /already attached/);
    assert.equal(registered(fn).length, 2, "the kprobe and the kretprobe are registered in the kernel");

    assert.equal(await child.go(), 0);
    const key = child.pid;
    assert.equal(b.table("counts").get(key), BigInt(N));
    assert.equal(b.table("returns").get(key), BigInt(N));
    assert.equal(b.table("retval").get(key), BigInt(process.pid), "getppid returned the test process's pid");

    b.detachKretprobe(fn);
    assert.throws(() => b.detachKretprobe(fn), /not attached/);
  } finally {
    b.close();
    child.child.kill();
  }
  assert.equal(liveFds().size, before, "every fd (perf events, links, programs, maps) closed");
  assert.deepEqual(registered(fn), [], "no kprobe remains on the function");
});

test("a kprobe on a function that does not exist gets a clear AttachError", async (t) => {
  if (process.env.TSBCC_VM !== "1") {
    t.skip("not inside the VM guest");
    return;
  }
  const before = liveFds().size;
  const b = await BPF.load({ text: "int probe(struct pt_regs *ctx) { return 0; }" });
  try {
    assert.throws(() => b.attachKprobe({ event: "tsbcc_no_such_function", fnName: "probe" }),
      (e: unknown) => e instanceof AttachError && /tsbcc_no_such_function is not traceable/.test(e.message));
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, before);
});
