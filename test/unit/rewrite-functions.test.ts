// Golden tests of function-level rewrites: sections, register parameters, syscall convention, static helpers,
// printk, bpf_num_cpus, tracepoint structs, BTF-typed program macros, license, and the line map.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpus } from "node:os";
import { readFileSync } from "node:fs";
import { compileMini, skipReason, userLine } from "../fixtures/dialect/harness.js";
import { sectionFor } from "../../src/dialect/index.js";
import { onlineCpus } from "../../src/kernel/cpus.js";
import { parseObject } from "../../src/loader/index.js";

test("section names follow libbpf for autoloaded prefixes and prog/<name> otherwise", () => {
  const cases: [string, string][] = [
    ["tracepoint__syscalls__sys_enter_openat", "tracepoint/syscalls/sys_enter_openat"],
    ["tracepoint__sched__sched_process_exec", "tracepoint/sched/sched_process_exec"],
    ["raw_tracepoint__sched_switch", "raw_tracepoint/sched_switch"],
    ["kprobe__do_sys_open", "kprobe/do_sys_open"],
    ["kretprobe__do_sys_open", "kretprobe/do_sys_open"],
    ["kfunc__vmlinux__do_unlinkat", "fentry/do_unlinkat"],
    ["kfunc__nfs__nfs_open", "fentry/nfs_open"],
    ["kretfunc__vmlinux__do_unlinkat", "fexit/do_unlinkat"],
    ["kmod_ret__should_fail", "fmod_ret/should_fail"],
    ["lsm__bpf", "lsm/bpf"],
    ["bpf_iter__task", "iter/task"],
    ["trace_entry", "prog/trace_entry"],
    ["syscall__execve", "prog/syscall__execve"],
  ];
  for (const [name, section] of cases) assert.equal(sectionFor(name), section, name);
});

const PROGRAM = `#include <linux/sched.h>
static int helper(int x) { return x + 1; }
static int proto(int x);
int trace_entry(struct pt_regs *ctx, int a, struct file *f,
                long c)
{
  bpf_trace_printk("a=%d c=%ld\\n", a, c);
  bpf_trace_printk("hello\\n");
  return helper(a) + bpf_num_cpus();
}
int syscall__execve(struct pt_regs *ctx, const char *filename, const char **argv, const char **envp, int x4) {
  return x4 + (filename != 0);
}
int kprobe____x64_sys_close(struct pt_regs *ctx, int fd) { return fd; }
TRACEPOINT_PROBE(sched, sched_process_exec) {
  return args->pid;
}
`;

test("program functions, register parameters, syscall convention, printk, bpf_num_cpus (golden)", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(PROGRAM);
  const ncpu = onlineCpus().length;
  const golden: Record<number, string> = {
    2: `__attribute__((always_inline)) static int helper(int x) { return x + 1; }`,
    3: `__attribute__((always_inline)) static int proto(int x);`,
    // parameters after ctx leave the signature (line breaks kept) and come back from registers, if used
    4: `__attribute__((section("prog/trace_entry"), used)) int trace_entry(struct pt_regs *ctx`,
    5: `)`,
    // the probed function's 1st argument (a) is in di, its 3rd (c) in dx; the unused f is dropped
    6: `{ int a = (__typeof__(a))ctx->di; long c = (__typeof__(c))ctx->dx;`,
    7: `  ({ char __tsbcc_fmt[] = "a=%d c=%ld\\n"; __tsbcc_libbpf_trace_printk(__tsbcc_fmt, sizeof(__tsbcc_fmt), a, c); });`,
    8: `  ({ char __tsbcc_fmt[] = "hello\\n"; __tsbcc_libbpf_trace_printk(__tsbcc_fmt, sizeof(__tsbcc_fmt)); });`,
    9: `  return helper(a) + ${ncpu};`,
    // syscall wrappers: arguments are read from the user registers' struct pt_regs (4th in r10)
    11: `__attribute__((section("prog/syscall__execve"), used)) int syscall__execve(struct pt_regs *ctx) { struct pt_regs *__tsbcc_sc = (struct pt_regs *)ctx->di;` +
      ` const char *filename; bpf_probe_read_kernel(&filename, sizeof(filename), &__tsbcc_sc->di);` +
      ` int x4; bpf_probe_read_kernel(&x4, sizeof(x4), &__tsbcc_sc->r10);`,
    14: `__attribute__((section("kprobe/__x64_sys_close"), used)) int kprobe____x64_sys_close(struct pt_regs *ctx) { struct pt_regs *__tsbcc_sc = (struct pt_regs *)ctx->di; int fd; bpf_probe_read_kernel(&fd, sizeof(fd), &__tsbcc_sc->di); return fd; }`,
    15: `__attribute__((section("tracepoint/sched/sched_process_exec"), used)) TRACEPOINT_PROBE(sched, sched_process_exec) {`,
  };
  const lines = PROGRAM.split("\n");
  for (let n = 1; n < lines.length; n++) assert.equal(userLine(r, n), golden[n] ?? lines[n - 1], `line ${n}`);
  assert.deepEqual(r.metadata.functions.map((f) => f.section), [
    "prog/trace_entry", "prog/syscall__execve", "kprobe/__x64_sys_close", "tracepoint/sched/sched_process_exec",
  ]);
  // The tracepoint struct precedes the user's text (BCC's rules: common fields -> __do_not_use__, __data_loc).
  const head = r.rewritten.slice(0, r.rewritten.indexOf('#line 1 "prog.c"'));
  assert.equal(head, "struct tracepoint__sched__sched_process_exec {\n\tu64 __do_not_use__;\n\tint data_loc_filename;\n\tpid_t pid;\n\tpid_t old_pid;\n};\n");
  void cpus;
});

test("BTF-typed program macros get their sections from the header", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`#include <linux/sched.h>
KFUNC_PROBE(do_unlinkat, int dfd, struct filename *name) { return dfd; }
KRETFUNC_PROBE(do_unlinkat, int dfd, struct filename *name, long ret) { return ret; }
KMOD_RET(should_fail_alloc_page, int a) { return 0; }
LSM_PROBE(bpf, int cmd) { return 0; }
KFUNC_PROBE(schedule) { return 0; }
`);
  assert.deepEqual(r.metadata.functions, [
    { name: "kfunc__vmlinux__do_unlinkat", section: "fentry/do_unlinkat" },
    { name: "kretfunc__vmlinux__do_unlinkat", section: "fexit/do_unlinkat" },
    { name: "kmod_ret__should_fail_alloc_page", section: "fmod_ret/should_fail_alloc_page" },
    { name: "lsm__bpf", section: "lsm/bpf" },
    { name: "kfunc__vmlinux__schedule", section: "fentry/schedule" },
  ]);
  // No attribute inserted in front of these macros (the header sets it), and no reads are rewritten.
  assert.equal(userLine(r, 2), "KFUNC_PROBE(do_unlinkat, int dfd, struct filename *name) { return dfd; }");
  const sections = elfSectionNames(r.object);
  for (const s of ["fentry/do_unlinkat", "fexit/do_unlinkat", "fmod_ret/should_fail_alloc_page", "lsm/bpf", "fentry/schedule", ".maps", "license"]) {
    if (s === ".maps") continue; // no maps in this program
    assert.ok(sections.includes(s), `section ${s} in ${sections.join(",")}`);
  }
});

test("license: GPL by default, the user's #define BPF_LICENSE wins", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const a = await compileMini(`int f(struct pt_regs *ctx) { return 0; }\n`);
  assert.equal(licenseOf(a.object), "GPL");
  const b = await compileMini(`#define BPF_LICENSE Dual BSD/GPL\nint f(struct pt_regs *ctx) { return 0; }\n`);
  assert.equal(licenseOf(b.object), "Dual BSD/GPL");
});

test("bpf_log2l follows BCC's slots: 0->1, 1->1, 2->2, 3->2, 4..7->3", () => {
  // The helper is C; its definition is checked against the documented slot rule on a host model.
  const text = readFileSync(new URL("../../../include/tsbcc/base.h", import.meta.url), "utf8");
  assert.match(text, /bpf_log2l\(unsigned long v\)/);
  const log2 = (v: number): number => {
    let r = (v > 0xffff ? 1 : 0) << 4; v >>>= r;
    let s = (v > 0xff ? 1 : 0) << 3; v >>>= s; r |= s;
    s = (v > 0xf ? 1 : 0) << 2; v >>>= s; r |= s;
    s = (v > 0x3 ? 1 : 0) << 1; v >>>= s; r |= s;
    return r | (v >>> 1);
  };
  const log2l = (v: bigint): number => {
    const hi = Number(v >> 32n);
    return hi ? log2(hi) + 33 : log2(Number(v & 0xffffffffn)) + 1;
  };
  assert.deepEqual([0n, 1n, 2n, 3n, 4n, 5n, 7n, 8n, 1023n, 1024n, 1n << 40n].map(log2l), [1, 1, 2, 2, 3, 3, 3, 4, 10, 11, 41]);
});

test("every user line keeps its number in the rewritten text; BTF line info points at the user's file", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const src = `#include <linux/sched.h>
BPF_HASH(counts, u32);
int kprobe__f(struct pt_regs *ctx, struct file *file) {
  u32 k = file->f_flags;
  counts.increment(k,
                   2);
  return 0;
}
`;
  const r = await compileMini(src);
  const lines = r.rewritten.split("\n");
  const start = lines.indexOf('#line 1 "prog.c"');
  // user line 7 ("  return 0;") is rewritten-line start+7 even though lines 3-6 were rewritten
  assert.equal(lines[start + 7], "  return 0;");
  // the line break inside the call moved after it: the statement's ';' is alone on user line 6
  assert.equal(lines[start + 6], ";");
  assert.match(lines[start + 5]!, /^  \(\{ __tsbcc_key_counts __tsbcc_k = \(k\);.*\+= \(\s*2\);/);
  // .BTF.ext line info names prog.c (the #line directive) and the user's line numbers, whatever the rewriting did
  const spec = parseObject(r.object);
  const ext = spec.btf?.ext;
  assert.ok(ext, "the object has .BTF.ext");
  const seen = new Set<string>();
  for (const [section, recs] of ext.lineInfo) {
    for (const rec of recs.records) {
      const l = ext.sourceLine(section, rec.insnOff)!;
      seen.add(`${l.file}:${l.line}`);
    }
  }
  assert.ok([...seen].every((s) => s.startsWith("prog.c:")), [...seen].join(" "));
  assert.ok(seen.has("prog.c:4") && seen.has("prog.c:7"), [...seen].join(" "));
});

function licenseOf(obj: Uint8Array): string {
  const s = new TextDecoder("latin1").decode(obj);
  const m = /(GPL|Dual BSD\/GPL)\0/.exec(s);
  return m ? m[1]! : "";
}

/** Section names of an ELF64 little-endian object (enough for tests). */
function elfSectionNames(obj: Uint8Array): string[] {
  const dv = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  const strOff = Number(dv.getBigUint64(shoff + shstrndx * shentsize + 0x18, true));
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const nameOff = dv.getUint32(shoff + i * shentsize, true);
    let e = strOff + nameOff;
    while (obj[e] !== 0) e++;
    names.push(new TextDecoder().decode(obj.subarray(strOff + nameOff, e)));
  }
  return names;
}
