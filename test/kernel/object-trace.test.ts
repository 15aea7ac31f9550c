// Tier 2: bpf_trace_printk output through the trace_pipe reader, and a live log2 histogram filled by a
// program, printed byte for byte like BCC prints the same numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { BPFObject } from "../../src/api/object.js";
import { traceClose, traceFields } from "../../src/api/tracepipe.js";
import { openGlobalTracePipe } from "../helpers/trace-pipe.js";
import { bpfObject, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "gcc", "root");

const PRINTK = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile unsigned int target_pid = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int tsbcc_t_printk(void *ctx) {
  unsigned int pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != target_pid) return 0;
  char fmt[] = "tsbcc-hello pid=%d\\n";
  bpf_trace_printk(fmt, sizeof(fmt), pid);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";`;

test("bpf_trace_printk lines come back through trace_pipe with the writer's pid and message", { skip }, async (t) => {
  const busy = await openGlobalTracePipe();
  t.after(() => traceClose());
  if (busy) return t.skip(busy);
  const child = pausedChild(syscallLoop("getppid"), ["3"]);
  const obj = await BPFObject.load(bpfObject(PRINTK), { constants: { target_pid: child.pid } });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  try {
    obj.program("tsbcc_t_printk").attach();
    await child.go();
    const seen = [];
    for await (const f of traceFields(ac.signal)) {
      if (!f.msg.startsWith("tsbcc-hello")) continue;
      seen.push(f);
      if (seen.length === 3) break;
    }
    assert.equal(seen.length, 3, "one line per getppid call before the 30 s deadline");
    for (const f of seen) {
      assert.equal(f.pid, child.pid);
      assert.equal(f.msg, `tsbcc-hello pid=${child.pid}`);
      assert.ok(f.cpu >= 0 && f.ts > 0);
    }
  } finally {
    clearTimeout(timer);
    obj.close();
  }
});

const HIST = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile unsigned int target_pid = 0;
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, unsigned long long); __uint(max_entries, 64); } dist SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, unsigned long long); __uint(max_entries, 1); } seq SEC(".maps");
static __always_inline int log2l(unsigned long long v) { int r = 0; while (v) { v >>= 1; r++; if (r > 63) break; } return r; }
SEC("tracepoint/syscalls/sys_enter_getppid")
int tsbcc_t_hist(void *ctx) {
  if ((bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
  int zero = 0;
  unsigned long long *n = bpf_map_lookup_elem(&seq, &zero);
  if (!n) return 0;
  unsigned long long v = __sync_fetch_and_add(n, 1);   /* the call number: 0, 1, 2, ... */
  int slot = log2l(v);
  unsigned long long *c = bpf_map_lookup_elem(&dist, &slot);
  if (c) __sync_fetch_and_add(c, 1);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";`;

test("a live log2 histogram prints byte for byte as BCC prints the same data", { skip }, async (t) => {
  const child = pausedChild(syscallLoop("getppid"), ["3000"]);
  const obj = await BPFObject.load(bpfObject(HIST), { constants: { target_pid: child.pid } });
  try {
    obj.program("tsbcc_t_hist").attach();
    await child.go();
    const dist = obj.map("dist");
    // Values 0..2999 land in slot floor(log2(v))+1 (v=0 in slot 0): slot 12 holds 2048..2999 = 952 calls.
    assert.equal(dist.get(12), 952n);
    assert.equal(dist.get(1), 1n);
    const ours = dist.formatLog2Hist("calls");
    assert.match(ours, /^ {5}calls {15}: count {5}distribution\n/);
    const slots = Array.from({ length: 64 }, (_, i) => Number(dist.get(i)));
    let bcc: string;
    try {
      bcc = execFileSync("/usr/bin/python3", ["-c",
        "import sys, json\nfrom bcc.table import _print_log2_hist\n_print_log2_hist(json.loads(sys.argv[1]), 'calls', False)", JSON.stringify(slots)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch {
      t.skip("BCC's Python module is not installed: compared with the golden-file unit tests only");
      return;
    }
    assert.equal(ours, bcc);
  } finally {
    obj.close();
  }
});
