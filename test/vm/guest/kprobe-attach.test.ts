// Runs inside the VM guest (see docs/VM.md): syscall__ argument rewriting on execve, eventRe multi-attach with
// the probe quota, a maxactive kretprobe through tracefs, and bpf_override_return (probed; skipped where the
// kernel lacks it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { BPF } from "../../../src/api/bpf.js";
import { haveOverrideReturn } from "../../../src/kernel/features.js";
import { ourKprobeEvents } from "../../../src/link/index.js";
import { liveFds } from "../../../src/sys/index.js";
import { haveGcc, syscallLoop } from "../../helpers/build.js";
import { pausedChild } from "../../helpers/child.js";

const inVm = process.env.TSBCC_VM === "1";

const PROGRAM = `
struct exec_t { char filename[64]; char arg1[32]; };
BPF_HASH(execs, u32, struct exec_t);
BPF_HASH(calls, u64, u64);
BPF_HASH(rets, u32, u64);

int syscall__execve(struct pt_regs *ctx, const char __user *filename,
                    const char __user *const __user *__argv, const char __user *const __user *__envp) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  struct exec_t e = {};
  bpf_probe_read_user_str(e.filename, sizeof(e.filename), filename);
  const char *a1 = NULL;
  bpf_probe_read_user(&a1, sizeof(a1), &__argv[1]);
  if (a1) bpf_probe_read_user_str(e.arg1, sizeof(e.arg1), a1);
  execs.update(&pid, &e);
  return 0;
}

int count_ip(struct pt_regs *ctx) {
  u64 ip = PT_REGS_IP(ctx);
  calls.increment(ip);
  return 0;
}

int on_ret(struct pt_regs *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u64 rc = PT_REGS_RC(ctx);
  rets.update(&pid, &rc);
  return 0;
}
`;

test("syscall__execve reads filename and argv[1]; eventRe attaches vfs_read and vfs_write; maxactive kretprobe", { timeout: 300_000 }, async (t) => {
  if (!inVm) {
    t.skip("not inside the VM guest");
    return;
  }
  if (!haveGcc) {
    t.skip("gcc is needed to build the child");
    return;
  }
  const before = liveFds().size;
  const openBefore = BPF.numOpenKprobes();
  const b = await BPF.load({ text: PROGRAM });
  try {
    b.attachKprobe({ event: BPF.getSyscallFnName("execve"), fnName: "syscall__execve" });
    const r = spawnSync("/bin/echo", ["tsbcc-marker-arg"], { encoding: "utf8" });
    assert.equal(r.stdout, "tsbcc-marker-arg\n");
    const e = b.table("execs").get(r.pid);
    assert.ok(e, "the child's execve was seen");
    assert.equal(e.filename, "/bin/echo");
    assert.equal(e.arg1, "tsbcc-marker-arg");

    // eventRe: exactly the two functions, counted against the quota; detach returns them.
    assert.deepEqual(BPF.getKprobeFunctions("vfs_(read|write)").sort(), ["vfs_read", "vfs_write"]);
    const limit = process.env.TSBCC_PROBE_LIMIT;
    process.env.TSBCC_PROBE_LIMIT = String(BPF.numOpenKprobes() + 1);
    try {
      assert.throws(() => b.attachKprobe({ eventRe: "^vfs_(read|write)$", fnName: "count_ip" }), /number of open probes would exceed the quota/);
    } finally {
      if (limit === undefined) delete process.env.TSBCC_PROBE_LIMIT;
      else process.env.TSBCC_PROBE_LIMIT = limit;
    }
    b.attachKprobe({ eventRe: "^vfs_(read|write)$", fnName: "count_ip" });
    assert.equal(BPF.numOpenKprobes(), openBefore + 3, "execve + 2 from the pattern");
    const file = `/tmp/tsbcc-eventre-${process.pid}`;
    writeFileSync(file, "x".repeat(100));
    assert.equal(readFileSync(file, "utf8").length, 100);
    rmSync(file);
    const calls = [...b.table("calls").entries()] as [bigint, bigint][];
    assert.ok(calls.length >= 2, `at least two probed addresses fired (got ${calls.length})`);
    assert.ok(calls.every(([, n]) => n > 0n));
    b.detachKprobe("vfs_read");
    b.detachKprobe("vfs_write");
    assert.equal(BPF.numOpenKprobes(), openBefore + 1);

    // maxactive goes through tracefs; the return value is the syscall's.
    const child = pausedChild(syscallLoop("getppid"), ["3"]);
    b.attachKretprobe({ event: BPF.getSyscallFnName("getppid"), fnName: "on_ret", maxactive: 4 });
    const ours = ourKprobeEvents().filter((x) => x.pid === process.pid);
    assert.equal(ours.length, 1);
    assert.match(ours[0]!.line, /^r4:tsbcc\/r___x64_sys_getppid_\d+ __x64_sys_getppid$/);
    assert.equal(await child.go(), 0);
    assert.equal(b.table("rets").get(child.pid), BigInt(process.pid));
    b.detachKretprobe(BPF.getSyscallFnName("getppid"));
    assert.equal(ourKprobeEvents().filter((x) => x.pid === process.pid).length, 0, "tracefs entry removed on detach");
  } finally {
    b.close();
  }
  assert.equal(BPF.numOpenKprobes(), openBefore);
  assert.equal(liveFds().size, before);
});

test("bpf_override_return makes a syscall fail (where the kernel allows it)", { timeout: 120_000 }, async (t) => {
  if (!inVm) {
    t.skip("not inside the VM guest");
    return;
  }
  const probe = haveOverrideReturn();
  if (!probe.supported) {
    t.skip(probe.reason);
    return;
  }
  const child = pausedChild(syscallLoop("getppid"), ["1"]);
  const b = await BPF.load({
    text: `int kprobe__sys_getppid(struct pt_regs *ctx) {
  if ((bpf_get_current_pid_tgid() >> 32) != ${child.pid}) return 0;
  bpf_override_return(ctx, -12);
  return 0;
}
BPF_HASH(rets, u32, s64);
int kretprobe__sys_getppid(struct pt_regs *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  s64 rc = PT_REGS_RC(ctx);
  if (pid == ${child.pid}) rets.update(&pid, &rc);
  return 0;
}`,
  });
  try {
    assert.equal(await child.go(), 0);
    assert.equal(b.table("rets").get(child.pid), -12n, "getppid returned -ENOMEM");
  } finally {
    b.close();
  }
});
