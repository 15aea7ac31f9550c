// Golden tests of implicit kernel-memory reads (bcc-spec 2c), including the cases BCC gets wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileMini, skipReason, userLine } from "../fixtures/dialect/harness.js";

/** The generated read of the object at `addr` into a temporary of type T. */
const R = (T: string, addr: string) =>
  `({ ${T} __tsbcc_val; __builtin_memset(&__tsbcc_val, 0, sizeof(__tsbcc_val)); bpf_probe_read_kernel(&__tsbcc_val, sizeof(__tsbcc_val), (void *)${addr}); __tsbcc_val; })`;
const DENTRY = R("struct dentry *", "&(file->f_path.dentry)");
const NAME = R("const unsigned char *", `&(${DENTRY}->d_name.name)`);

const PROGRAM = `#include <linux/sched.h>
#include <linux/fs.h>
BPF_HASH(currsock, u32, struct sock *);
static inline unsigned char *hdr(struct sk_buff *skb) { return skb->head + skb->transport_header; }
int kprobe__vfs_read(struct pt_regs *ctx, struct file *file, char *buf, size_t count) {
  const unsigned char *name = file->f_path.dentry->d_name.name;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  u32 ppid = t->real_parent->tgid;
  char c1 = t->comm[1];
  unsigned char n1 = file->f_path.dentry->d_name.name[1];
  unsigned char i2 = file->f_path.dentry->d_iname[2];
  struct dentry **dp = &file->f_path.dentry;
  struct qstr q = file->f_path.dentry->d_name;
  int sz = sizeof(file->f_flags);
  char buf2[16];
  bpf_probe_read_kernel(buf2, sizeof(buf2), file->f_path.dentry->d_name.name);
  bpf_probe_read_kernel(buf2, sizeof(buf2), &file->f_path.dentry->d_iname);
  return name[0] + ppid + c1 + n1 + i2 + q.len + sz + (*dp != 0) + count;
}
int kprobe__tcp_v4_connect(struct pt_regs *ctx, struct sock *sk) {
  u32 pid = 1; currsock.update(&pid, &sk); return 0;
}
int kretprobe__tcp_v4_connect(struct pt_regs *ctx) {
  u32 pid = 1; struct sock **skpp = currsock.lookup(&pid);
  if (skpp) { struct sock *skp = *skpp; return skp->__sk_common.skc_dport; }
  return 0;
}
int kprobe__tcp_rcv(struct pt_regs *ctx, struct sk_buff *skb) {
  unsigned char *th = hdr(skb);
  return *th;
}
RAW_TRACEPOINT_PROBE(sched_switch) {
  struct task_struct *prev = (struct task_struct *)ctx->args[1];
  return prev->pid;
}
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  int dfd = args->dfd;
  return t->pid + dfd;
}
int kprobe__x(struct pt_regs *ctx, struct file *f) {
  struct file *g = (struct file *)PT_REGS_PARM2(ctx);
  struct task_struct *me; struct task_struct *parent;
  me = (struct task_struct *)bpf_get_current_task();
  bpf_probe_read_kernel(&parent, sizeof(parent), &me->real_parent);
  return g->f_flags + parent->pid;
}
int sk_filter(struct __sk_buff *skb) { return skb->len; }
`;

const GOLDEN: Record<number, string> = {
  // static helpers: always_inline, and their own reads (arguments are tracked through the call)
  4: `__attribute__((always_inline)) static inline unsigned char *hdr(struct sk_buff *skb) { return ${R("unsigned char *", "&(skb->head)")} + ${R("u16", "&(skb->transport_header)")}; }`,
  5: `__attribute__((section("kprobe/vfs_read"), used)) int kprobe__vfs_read(struct pt_regs *ctx) { struct file *file = (__typeof__(file))ctx->di; size_t count = (__typeof__(count))ctx->dx;`,
  // nested chains: file->f_path.dentry is read first, then ->d_name.name of the result
  6: `  const unsigned char *name = ${NAME};`,
  8: `  u32 ppid = ${R("pid_t", `&(${R("struct task_struct *", "&(t->real_parent)")}->tgid)`)};`,
  // array member: element 1 at its own address (BCC reads (&t->comm) + 1, i.e. past the whole array)
  9: `  char c1 = ${R("char", "&(t->comm[1])")};`,
  // pointer member: the pointer is read first, then element 1 of what it points to (BCC reads &name + 1)
  10: `  unsigned char n1 = ${R("unsigned char", `&(${NAME}[1])`)};`,
  11: `  unsigned char i2 = ${R("unsigned char", `&(${DENTRY}->d_iname[2])`)};`,
  // address-of and sizeof are not reads
  12: `  struct dentry **dp = &file->f_path.dentry;`,
  13: `  struct qstr q = ${R("struct qstr", `&(${DENTRY}->d_name)`)};`,
  14: `  int sz = sizeof(file->f_flags);`,
  // bpf_probe_read*'s source is an address: only what computes it is read
  16: `  bpf_probe_read_kernel(buf2, sizeof(buf2), ${NAME});`,
  17: `  bpf_probe_read_kernel(buf2, sizeof(buf2), &${DENTRY}->d_iname);`,
  18: `  return ${R("unsigned char", "&(name[0])")} + ppid + c1 + n1 + i2 + q.len + sz + (${R("struct dentry *", "(dp)")} != 0) + count;`,
  20: `__attribute__((section("kprobe/tcp_v4_connect"), used)) int kprobe__tcp_v4_connect(struct pt_regs *ctx) { struct sock *sk = (__typeof__(sk))ctx->di;`,
  21: `  u32 pid = 1; bpf_map_update_elem((void *)&currsock, (&pid), (&sk), BPF_ANY); return 0;`,
  23: `__attribute__((section("kretprobe/tcp_v4_connect"), used)) int kretprobe__tcp_v4_connect(struct pt_regs *ctx) {`,
  24: `  u32 pid = 1; struct sock **skpp = ((__tsbcc_leaf_currsock *)bpf_map_lookup_elem((void *)&currsock, (&pid)));`,
  // a pointer stored in a map by one program is external when another reads it back
  25: `  if (skpp) { struct sock *skp = *skpp; return ${R("__be16", "&(skp->__sk_common.skc_dport)")}; }`,
  28: `__attribute__((section("kprobe/tcp_rcv"), used)) int kprobe__tcp_rcv(struct pt_regs *ctx) { struct sk_buff *skb = (__typeof__(skb))ctx->di;`,
  // a static helper's return value is external
  30: `  return ${R("unsigned char", "(th)")};`,
  32: `__attribute__((section("raw_tracepoint/sched_switch"), used)) RAW_TRACEPOINT_PROBE(sched_switch) {`,
  34: `  return ${R("pid_t", "&(prev->pid)")};`,
  // tracepoint fields are direct context reads
  36: `__attribute__((section("tracepoint/syscalls/sys_enter_openat"), used)) TRACEPOINT_PROBE(syscalls, sys_enter_openat) {`,
  39: `  return ${R("pid_t", "&(t->pid)")} + dfd;`,
  41: `__attribute__((section("kprobe/x"), used)) int kprobe__x(struct pt_regs *ctx) {`,
  // PT_REGS_PARM2(ctx) is a context value; a pointer filled by bpf_probe_read_kernel is external too
  45: `  bpf_probe_read_kernel(&parent, sizeof(parent), &me->real_parent);`,
  46: `  return ${R("unsigned int", "&(g->f_flags)")} + ${R("pid_t", "&(parent->pid)")};`,
  // TC/socket contexts are not tracked: packet pointers and __sk_buff fields are direct
  48: `__attribute__((section("prog/sk_filter"), used)) int sk_filter(struct __sk_buff *skb) { return skb->len; }`,
};

test("implicit kernel reads are rewritten exactly where clang reads external memory (golden)", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(PROGRAM);
  const lines = PROGRAM.split("\n");
  for (let n = 1; n < lines.length; n++) {
    assert.equal(userLine(r, n), GOLDEN[n] ?? lines[n - 1], `line ${n}`);
  }
  assert.deepEqual(r.warnings, []);
});

test("reads that a kernel macro ends are rewritten over the whole macro name", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  // Kernel headers spell members through object-like macros (#define inet_sport sk.__sk_common.skc_num...).
  const r = await compileMini(`#include <linux/sched.h>
#define sk_dport __sk_common.skc_dport
int kprobe__f(struct pt_regs *ctx, struct sock *sk) {
  return sk->sk_dport;
}
`);
  assert.equal(userLine(r, 4), `  return ${R("__be16", "&(sk->sk_dport)")};`);
});

test("address arithmetic through integers stays external (bindsnoop's protocol read)", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`#include <linux/sched.h>
int kprobe__f(struct pt_regs *ctx, struct sock *skp) {
  u8 protocol = *(u8 *)((u64)&skp->sk_rcvbuf - 3);
  return protocol;
}
`);
  assert.equal(userLine(r, 3), `  u8 protocol = ${R("u8", "((u8 *)((u64)&skp->sk_rcvbuf - 3))")};`);
});
