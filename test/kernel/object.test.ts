// Tier 2: standard BPF objects (libbpf style, compiled here by clang) loaded, attached and read back
// through BPFObject on the real kernel. Every assertion is a value the kernel produced.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPFObject } from "../../src/api/object.js";
import { bpfObject, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { listPrograms } from "../../src/kernel/programs.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "gcc", "root");

const COUNT_GETPPID = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile unsigned int target_pid = 0;
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, unsigned int); __type(value, unsigned long long); __uint(max_entries, 1); } counts SEC(".maps");
static __attribute__((noinline)) int bump(unsigned int k) {
  unsigned long long *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}
SEC("tracepoint/syscalls/sys_enter_getppid")
int tsbcc_t_getppid(void *ctx) {
  if ((bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
  return bump(0);
}
char LICENSE[] SEC("license") = "GPL";
`;

test("a tracepoint program filtered on a child's pid counts exactly its getppid calls", { skip }, async () => {
  const fdsBefore = liveFds().size;
  const child = pausedChild(syscallLoop("getppid"), ["1000"]);
  const obj = await BPFObject.load(bpfObject(COUNT_GETPPID), { constants: { target_pid: child.pid } });
  try {
    assert.deepEqual(obj.programNames, ["tsbcc_t_getppid"]);
    obj.program("tsbcc_t_getppid").attach();
    assert.equal(await child.go(), 0);
    assert.equal(obj.map("counts").get(0), 1000n);
  } finally {
    obj.close();
  }
  assert.equal(liveFds().size, fdsBefore, "every fd we opened is closed");
  assert.ok(!listPrograms().some((p) => p.name === "tsbcc_t_getppid"), "no program of ours stays loaded after close()");
});

const RAW_SWITCH = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, unsigned int); __type(value, unsigned long long); __uint(max_entries, 64); } switches SEC(".maps");
SEC("raw_tracepoint/sched_switch")
int tsbcc_t_switch(unsigned long long *ctx) {
  unsigned int cpu = bpf_get_smp_processor_id();
  unsigned long long one = 1, *v = bpf_map_lookup_elem(&switches, &cpu);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&switches, &cpu, &one, BPF_NOEXIST);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

test("a raw tracepoint on sched_switch records context switches per CPU", { skip }, async () => {
  const obj = await BPFObject.load(bpfObject(RAW_SWITCH));
  try {
    obj.program("tsbcc_t_switch").attach();
    // Sleeping forces at least one switch away from and back to this thread.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    const table = obj.map("switches");
    let total = 0n;
    for (const [cpu, n] of table) {
      assert.ok(typeof cpu === "number" && cpu >= 0 && cpu < 1024);
      total += n as bigint;
    }
    assert.ok(total >= 5n, `expected at least 5 switches, saw ${total}`);
  } finally {
    obj.close();
  }
});
