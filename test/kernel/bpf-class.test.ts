// Tier 2: the BPF class end to end: BCC C (no kernel headers) -> compile -> load -> autoload attach ->
// values read back from the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/api/bpf.js";
import { syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "gcc", "root");

test("TRACEPOINT_PROBE + BPF_HASH.increment counts exactly the child's getppid calls", { skip }, async () => {
  const before = liveFds().size;
  const child = pausedChild(syscallLoop("getppid"), ["1000"]);
  const b = await BPF.load({
    text: `
BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    counts.increment(pid);
    return 0;
}`,
  });
  try {
    assert.deepEqual(b.functions, ["tracepoint__syscalls__sys_enter_getppid"]);
    assert.equal(await child.go(), 0);
    assert.equal(b.table("counts").get(child.pid), 1000n);
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, before);
});

test("implicit kernel reads: task->real_parent->tgid is the child's real parent", { skip }, async () => {
  const child = pausedChild(syscallLoop("getppid"), ["1"]);
  const b = await BPF.load({
    text: `
#include <linux/sched.h>
BPF_HASH(parents, u32, u32);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    u32 ppid = task->real_parent->tgid;
    parents.update(&pid, &ppid);
    return 0;
}`,
  });
  try {
    await child.go();
    assert.equal(b.table("parents").get(child.pid), process.pid);
  } finally {
    b.close();
  }
});

test("perf_submit events arrive typed through openPerfBuffer, one per call", { skip }, async () => {
  const child = pausedChild(syscallLoop("getppid"), ["50"]);
  const b = await BPF.load({
    text: `
struct data_t { u32 pid; u64 seq; char comm[16]; };
BPF_PERF_OUTPUT(events);
BPF_ARRAY(seqs, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    int zero = 0;
    u64 *s = seqs.lookup(&zero);
    if (!s) return 0;
    struct data_t d = {};
    d.pid = pid;
    d.seq = __sync_fetch_and_add(s, 1);
    bpf_get_current_comm(&d.comm, sizeof(d.comm));
    events.perf_submit(args, &d, sizeof(d));
    return 0;
}`,
  });
  try {
    const got: { pid: number; seq: bigint; comm: string }[] = [];
    b.openPerfBuffer("events", (_cpu, ev) => got.push(ev), { decode: true });
    await child.go();
    for (let i = 0; i < 50 && got.length < 50; i++) await b.perfBufferPoll(100);
    assert.equal(got.length, 50);
    assert.deepEqual(got.map((e) => e.seq).sort((x, y) => Number(x - y)), Array.from({ length: 50 }, (_, i) => BigInt(i)));
    for (const e of got) {
      assert.equal(e.pid, child.pid);
      assert.ok(e.comm.length > 0);
    }
  } finally {
    b.close();
  }
});

test("bad BCC C is reported at the user's line", { skip }, async () => {
  await assert.rejects(BPF.load({ text: "BPF_HASH(counts, u32, u64);\nTRACEPOINT_PROBE(syscalls, sys_enter_getppid) {\n  counts.frobnicate(1);\n  return 0;\n}\n" }),
    (e: unknown) => {
      assert.match((e as Error).message, /:3\b/);
      assert.match((e as Error).message, /frobnicate/);
      return true;
    });
});

test("a kprobe on this kernel gets the clear 'no kprobes' error with the tracepoint alternative", { skip }, async (t) => {
  if (BPF.supportKprobes()) {
    t.skip("this kernel has kprobes (the VM tier tests them)");
    return;
  }
  await assert.rejects(BPF.load({ text: "int kprobe__sys_clone(struct pt_regs *ctx) { return 0; }" }), /kprobes.*(CONFIG_KPROBES).*sys_enter_clone/s);
});

test("implicit kernel reads through four pointers: mm->exe_file->f_path.dentry->d_name.name is the child's binary", { skip }, async () => {
  const bin = syscallLoop("getppid");
  const child = pausedChild(bin, ["1"]);
  const b = await BPF.load({
    text: `
#include <linux/sched.h>
#include <linux/fs.h>
struct name_t { char name[64]; };
BPF_HASH(names, u32, struct name_t);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct file *exe = t->mm->exe_file;
    const unsigned char *name = exe->f_path.dentry->d_name.name;
    struct name_t n = {};
    bpf_probe_read_kernel_str(n.name, sizeof(n.name), name);
    names.update(&pid, &n);
    return 0;
}`,
  });
  try {
    await child.go();
    assert.deepEqual(b.table("names").get(child.pid), { name: bin.split("/").pop() });
  } finally {
    b.close();
  }
});

test("constants: one program text, a const volatile filter set at load, each load counts exactly its own child", { skip }, async () => {
  const before = liveFds().size;
  const text = `
const volatile u32 FILTER_PID = 0;
BPF_HASH(counts, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != FILTER_PID) return 0;
    counts.increment(pid);
    return 0;
}`;
  const first = pausedChild(syscallLoop("getppid"), ["700"]);
  const second = pausedChild(syscallLoop("getppid"), ["300"]);
  const a = await BPF.load({ text, constants: { FILTER_PID: first.pid } });
  const b = await BPF.load({ text, constants: { FILTER_PID: second.pid } });
  try {
    assert.equal(await first.go(), 0);
    assert.equal(await second.go(), 0);
    assert.deepEqual([...a.table("counts").entries()], [[first.pid, 700n]]);
    assert.deepEqual([...b.table("counts").entries()], [[second.pid, 300n]]);
  } finally {
    a.close();
    b.close();
  }
  // Wrong input: a clear ArgumentError naming `constants`, and nothing left in the kernel.
  await assert.rejects(BPF.load({ text, constants: { NO_SUCH: 1 } }), (e: Error & { code?: string }) =>
    e.code === "BAD_ARGUMENT" && /unknown constant "NO_SUCH" \(known: FILTER_PID\)/.test(e.message));
  await assert.rejects(BPF.load({ text, constants: { FILTER_PID: "12" as unknown as number } }), /constant "FILTER_PID" must be a number/);
  await assert.rejects(BPF.load({ text, constants: { FILTER_PID: 2 ** 40 } }), /FILTER_PID/);
  await assert.rejects(BPF.load({ text, constants: [] as unknown as Record<string, number> }), /constants: must be an object/);
  assert.equal(liveFds().size, before);
});
