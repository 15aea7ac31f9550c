// Tier 2: realistic BCC programs compile with the dialect compiler (kernel types from this kernel's BTF) and
// every program function is accepted by the kernel verifier (loaded through src/loader, not attached).
// Also checks, on live kernel data, the two indexing cases BCC's rewriter gets wrong (bcc-spec 2c).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { compileDialect } from "../../src/dialect/index.js";
import { LoadedObject, ProgType, parseObject } from "../../src/loader/index.js";
import { haveFentry, vmlinuxBtf } from "../../src/kernel/features.js";
import { BPF } from "../../src/api/bpf.js";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";

const skip = !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;

interface Snippet {
  name: string;
  text: string;
  /** Program type for functions whose section does not imply one (BCC's load_func type). */
  type?: number;
  /** Why this snippet cannot load here, probed (undefined: it must load). */
  unsupported?: () => string | undefined;
}

const SNIPPETS: Snippet[] = [
  {
    name: "hello printk on a syscall tracepoint",
    text: `TRACEPOINT_PROBE(syscalls, sys_enter_clone) { bpf_trace_printk("clone by %d\\n", bpf_get_current_pid_tgid() >> 32); return 0; }`,
  },
  {
    name: "opensnoop: tracepoint args, user string, perf output",
    text: `#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
struct data_t { u32 pid; int dfd; int flags; char comm[TASK_COMM_LEN]; char fname[256]; };
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
    struct data_t data = {};
    data.pid = bpf_get_current_pid_tgid() >> 32;
    data.dfd = args->dfd;
    data.flags = args->flags;
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    bpf_probe_read_user_str(&data.fname, sizeof(data.fname), args->filename);
    events.perf_submit(args, &data, sizeof(data));
    return 0;
}`,
  },
  {
    name: "execsnoop: current task, parent tgid, ring buffer reserve/submit",
    text: `#include <linux/sched.h>
struct event { u32 pid; u32 ppid; char comm[16]; };
BPF_RINGBUF_OUTPUT(rb, 16);
TRACEPOINT_PROBE(sched, sched_process_exec) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct event *e = rb.ringbuf_reserve(sizeof(*e));
    if (!e) return 0;
    e->pid = args->pid;
    e->ppid = task->real_parent->tgid;
    bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->real_parent->comm);
    rb.ringbuf_submit(e, 0);
    return 0;
}`,
  },
  {
    name: "runqlat: raw tracepoints, task pointers from ctx->args, histogram",
    text: `#include <linux/sched.h>
BPF_HASH(start, u32);
BPF_HISTOGRAM(dist);
RAW_TRACEPOINT_PROBE(sched_wakeup) {
    struct task_struct *p = (struct task_struct *)ctx->args[0];
    u32 pid = p->pid;
    u64 ts = bpf_ktime_get_ns();
    start.update(&pid, &ts);
    return 0;
}
RAW_TRACEPOINT_PROBE(sched_switch) {
    struct task_struct *next = (struct task_struct *)ctx->args[2];
    u32 pid = next->pid;
    u64 *tsp = start.lookup(&pid);
    if (tsp == 0) return 0;
    u64 delta = (bpf_ktime_get_ns() - *tsp) / 1000;
    dist.increment(bpf_log2l(delta));
    start.delete(&pid);
    return 0;
}`,
  },
  {
    name: "biolatency: block tracepoints keyed by request, histogram with struct keys",
    text: `#include <linux/blkdev.h>
typedef struct disk_key { char disk[32]; u64 slot; } disk_key_t;
BPF_HASH(start, u64, u64);
BPF_HISTOGRAM(dist, disk_key_t);
TRACEPOINT_PROBE(block, block_rq_issue) {
    u64 key = args->sector;
    u64 ts = bpf_ktime_get_ns();
    start.update(&key, &ts);
    return 0;
}
TRACEPOINT_PROBE(block, block_rq_complete) {
    u64 key = args->sector;
    u64 *tsp = start.lookup(&key);
    if (!tsp) return 0;
    disk_key_t dk = {};
    dk.slot = bpf_log2l((bpf_ktime_get_ns() - *tsp) / 1000);
    dist.increment(dk);
    start.delete(&key);
    return 0;
}`,
  },
  {
    name: "kprobe with register parameters and a dentry name chain",
    type: ProgType.KPROBE,
    text: `#include <linux/fs.h>
struct val_t { u64 bytes; char name[32]; };
BPF_HASH(reads, u32, struct val_t);
int kprobe__vfs_read(struct pt_regs *ctx, struct file *file, char __user *buf, size_t count) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct val_t zero = {}, *v = reads.lookup_or_try_init(&pid, &zero);
    if (!v) return 0;
    v->bytes += count;
    const unsigned char *name = file->f_path.dentry->d_name.name;
    bpf_probe_read_kernel_str(v->name, sizeof(v->name), name);
    return 0;
}`,
  },
  {
    name: "kretprobe with PT_REGS_RC and an entry/return map",
    text: `#include <uapi/linux/ptrace.h>
BPF_HASH(entry, u32, u64);
BPF_HASH(ret, u32, long);
int kprobe__do_sys_openat2(struct pt_regs *ctx) { u32 pid = bpf_get_current_pid_tgid(); u64 ts = bpf_ktime_get_ns(); entry.update(&pid, &ts); return 0; }
int kretprobe__do_sys_openat2(struct pt_regs *ctx) {
    u32 pid = bpf_get_current_pid_tgid();
    u64 *tsp = entry.lookup(&pid);
    if (!tsp) return 0;
    long rc = PT_REGS_RC(ctx);
    ret.update(&pid, &rc);
    entry.delete(&pid);
    return 0;
}`,
  },
  {
    name: "syscall__ convention: arguments through the wrapper's pt_regs",
    type: ProgType.KPROBE,
    text: `#include <uapi/linux/ptrace.h>
struct data_t { u32 pid; char argv0[64]; };
BPF_PERF_OUTPUT(events);
int syscall__execve(struct pt_regs *ctx, const char __user *filename, const char __user *const __user *__argv, const char __user *const __user *__envp) {
    struct data_t data = {};
    data.pid = bpf_get_current_pid_tgid() >> 32;
    const char *argp = 0;
    bpf_probe_read_user(&argp, sizeof(argp), (void *)&__argv[0]);
    if (argp) bpf_probe_read_user_str(data.argv0, sizeof(data.argv0), argp);
    else bpf_probe_read_user_str(data.argv0, sizeof(data.argv0), filename);
    events.perf_submit(ctx, &data, sizeof(data));
    return 0;
}`,
  },
  {
    name: "profile: perf event program with stack traces",
    type: ProgType.PERF_EVENT,
    text: `#include <uapi/linux/bpf_perf_event.h>
#include <linux/sched.h>
struct key_t { u32 pid; int user_stack_id; int kernel_stack_id; char name[TASK_COMM_LEN]; };
BPF_HASH(counts, struct key_t);
BPF_STACK_TRACE(stack_traces, 16384);
int do_perf_event(struct bpf_perf_event_data *ctx) {
    struct key_t key = {.pid = bpf_get_current_pid_tgid() >> 32};
    bpf_get_current_comm(&key.name, sizeof(key.name));
    key.user_stack_id = stack_traces.get_stackid(&ctx->regs, BPF_F_USER_STACK);
    key.kernel_stack_id = stack_traces.get_stackid(&ctx->regs, 0);
    counts.increment(key);
    return 0;
}`,
  },
  {
    name: "per-CPU array, atomic increment, lock_xadd",
    text: `BPF_PERCPU_ARRAY(pc, u64, 4);
BPF_ARRAY(total, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_write) {
    int zero = 0;
    u64 *v = pc.lookup(&zero);
    if (v) (*v)++;
    total.atomic_increment(zero);
    u64 *t = total.lookup(&zero);
    if (t) lock_xadd(t, 1);
    return 0;
}`,
  },
  {
    name: "tcp connect: sockets stored in a map between entry and return",
    type: ProgType.KPROBE,
    text: `#include <net/sock.h>
BPF_HASH(currsock, u32, struct sock *);
BPF_HASH(ports, u16, u64);
int trace_connect_entry(struct pt_regs *ctx, struct sock *sk) {
    u32 tid = bpf_get_current_pid_tgid();
    currsock.update(&tid, &sk);
    return 0;
}
int trace_connect_return(struct pt_regs *ctx) {
    u32 tid = bpf_get_current_pid_tgid();
    struct sock **skpp = currsock.lookup(&tid);
    if (!skpp) return 0;
    struct sock *skp = *skpp;
    u16 dport = skp->__sk_common.skc_dport;
    ports.increment(ntohs(dport));
    currsock.delete(&tid);
    return 0;
}`,
  },
  {
    name: "prog array tail call",
    text: `BPF_PROG_ARRAY(jmp, 4);
RAW_TRACEPOINT_PROBE(sys_enter) { jmp.call(ctx, 1); return 0; }`,
  },
  {
    name: "queue and stack maps",
    text: `BPF_QUEUE(q, u64, 64);
BPF_STACK(s, u32, 64);
TRACEPOINT_PROBE(syscalls, sys_enter_getpid) {
    u64 ts = bpf_ktime_get_ns(); u32 pid = bpf_get_current_pid_tgid();
    q.push(&ts, BPF_EXIST); s.push(&pid, 0);
    u64 old; q.pop(&old); s.peek(&pid);
    return 0;
}`,
  },
  {
    name: "__data_loc strings with TP_DATA_LOC_READ_STR",
    text: `struct ev { char filename[128]; u32 pid; };
BPF_PERF_OUTPUT(execs);
TRACEPOINT_PROBE(sched, sched_process_exec) {
    struct ev e = {};
    e.pid = args->pid;
    TP_DATA_LOC_READ_STR(e.filename, filename, sizeof(e.filename));
    execs.perf_submit(args, &e, sizeof(e));
    return 0;
}`,
  },
  {
    name: "socket filter with packet loads",
    type: ProgType.SOCKET_FILTER,
    text: `BPF_ARRAY(protos, u64, 256);
int count_proto(struct __sk_buff *skb) {
    int proto = load_byte(skb, 23);
    protos.increment(proto);
    return skb->len;
}`,
  },
  {
    name: "static helpers: arguments and return values stay external",
    text: `#include <linux/sched.h>
BPF_HASH(ppids, u32, u32);
static struct task_struct *parent_of(struct task_struct *t) { return t->real_parent; }
static u32 tgid_of(struct task_struct *t) { return t->tgid; }
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct task_struct *me = (struct task_struct *)bpf_get_current_task();
    u32 pid = tgid_of(me), ppid = tgid_of(parent_of(me));
    ppids.update(&pid, &ppid);
    return 0;
}`,
  },
  {
    name: "KFUNC_PROBE and KRETFUNC_PROBE (BTF-typed arguments)",
    unsupported: () => (haveFentry().supported ? undefined : `fentry: ${haveFentry().reason}`),
    text: `BPF_HASH(counts, u32);
KFUNC_PROBE(do_nanosleep, struct hrtimer_sleeper *t, int mode) { u32 m = mode; counts.increment(m); return 0; }
KRETFUNC_PROBE(do_nanosleep, struct hrtimer_sleeper *t, int mode, int ret) { u32 r = ret; counts.increment(r); return 0; }`,
  },
];

/** Loads every function of a compiled object; returns the load errors. */
function loadAll(object: Uint8Array, type?: number): string[] {
  const obj = new LoadedObject(parseObject(object));
  const errors: string[] = [];
  try {
    for (const p of obj.spec.programs) {
      try {
        const extra: Record<string, number> = {};
        if (p.kind.attach === "btf") {
          const fn = p.kind.target.split("/").pop()!;
          extra.attachBtfId = vmlinuxBtf().findIds("func", fn)[0] ?? 0;
        }
        obj.loadProgram(p.name, p.kind.progType ? undefined : type, extra);
      } catch (e) {
        errors.push(`${p.name}: ${(e as Error).message.split("\n").slice(0, 8).join(" | ")}`);
      }
    }
  } finally {
    obj.close();
  }
  return errors;
}

for (const s of SNIPPETS) {
  test(`compile + verifier: ${s.name}`, { skip }, async (t) => {
    const why = s.unsupported?.();
    if (why) return t.skip(why);
    const r = await compileDialect({ text: s.text, fileName: `${s.name.split(":")[0]!.replace(/\W+/g, "_")}.c` });
    assert.ok(r.metadata.functions.length > 0);
    assert.deepEqual(loadAll(r.object, s.type), []);
  });
}

test("array-member and pointer-member indexing read the right bytes (BCC reads past the field)", { skip: skip || (!haveGcc ? "gcc is needed" : false) }, async () => {
  // The child's comm is its binary's name and its cwd's last component is a name we choose: compare the
  // second character of each, read as t->comm[1] (array member) and ...d_name.name[1] (pointer member).
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-"));
  const cwd = join(dir, "qWxyz");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(cwd);
  const bin = syscallLoop("getppid");
  const saved = process.cwd();
  process.chdir(cwd);
  let child;
  try {
    child = pausedChild(bin, ["1"]);
  } finally {
    process.chdir(saved);
  }
  const b = await BPF.load({
    text: `#include <linux/sched.h>
#include <linux/fs_struct.h>
BPF_HASH(out, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    u64 v = t->comm[1];
    u32 k = 0; out.update(&k, &v);
    v = t->fs->pwd.dentry->d_name.name[1];
    k = 1; out.update(&k, &v);
    v = t->comm[0];
    k = 2; out.update(&k, &v);
    return 0;
}`,
  });
  try {
    assert.equal(await child.go(), 0);
    const out = b.table("out");
    const comm = basename(bin).slice(0, 15);
    assert.equal(String.fromCharCode(Number(out.get(2))), comm[0], "comm[0]");
    assert.equal(String.fromCharCode(Number(out.get(0))), comm[1], "comm[1]: element 1 of the array member");
    assert.equal(String.fromCharCode(Number(out.get(1))), "W", "name[1]: element 1 of what the pointer member points to");
  } finally {
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("useKernelHeaders: the same dialect against /lib/modules/$(uname -r)/build (host-target frontend, IR retargeted)", { skip }, async (t) => {
  const { existsSync } = await import("node:fs");
  const { release } = await import("node:os");
  if (!existsSync(`/lib/modules/${release()}/build/include`)) return t.skip("no kernel headers for the running kernel");
  const r = await compileDialect({
    useKernelHeaders: true, fileName: "headers.c", text: `#include <linux/sched.h>
BPF_HASH(counts, u32);
BPF_PERF_OUTPUT(events);
struct data_t { u32 pid; u32 ppid; };
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
    struct data_t d = {};
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    d.pid = bpf_get_current_pid_tgid() >> 32;
    d.ppid = task->real_parent->tgid;
    counts.increment(d.pid);
    events.perf_submit(args, &d, sizeof(d));
    return 0;
}`,
  });
  assert.deepEqual(r.metadata.functions, [{ name: "tracepoint__syscalls__sys_enter_openat", section: "tracepoint/syscalls/sys_enter_openat" }]);
  assert.deepEqual(r.metadata.events, { events: "struct data_t" });
  assert.match(r.rewritten, /bpf_probe_read_kernel\(&__tsbcc_val, sizeof\(__tsbcc_val\), \(void \*\)&\(task->real_parent\)\)/);
  assert.deepEqual(loadAll(r.object), []);
});
