// Tier 2: exposeTable over real BPF tables (per-CPU array, struct-keyed hash, linear histogram): the child makes 1000
// getppid calls and the rendered metrics say 1000, split as the program split them; closing leaves no fds behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF, MetricsRegistry, exposeTable, renderPrometheus } from "../../src/index.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";

const skip = !haveClang || !haveGcc ? "clang and gcc are needed" : process.getuid?.() !== 0 ? "needs root" : false;

test("exposeTable renders per-CPU, struct-keyed and linear-histogram tables with the kernel's counts", { skip }, async () => {
  const fds = liveFds().size;
  const child = pausedChild(syscallLoop("getppid"), ["1000"]);
  const b = await BPF.load({
    text: `
BPF_PERCPU_ARRAY(calls, u64, 1);
struct who { u32 pid; char comm[16]; };
BPF_HASH(by_proc, struct who, u64);
BPF_ARRAY(seq, u64, 1);
BPF_HISTOGRAM(mod8, int, 16);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${child.pid}) return 0;
    int zero = 0;
    calls.increment(zero);
    struct who w = { .pid = pid };
    bpf_get_current_comm(&w.comm, sizeof(w.comm));
    by_proc.increment(w);
    u64 *s = seq.lookup(&zero);
    if (!s) return 0;
    u64 n = __sync_fetch_and_add(s, 1);
    mod8.increment((int)(n % 8));
    return 0;
}`,
  });
  try {
    const registry = new MetricsRegistry();
    exposeTable(b.table("calls"), { registry, name: "tsbcc_test_calls_total", help: "getppid calls", labels: () => ({}) });
    exposeTable(b.table("by_proc"), { registry, name: "tsbcc_test_calls_by_proc_total", help: "per process" });
    exposeTable(b.table("mod8"), { registry, name: "tsbcc_test_mod8", help: "call index mod 8", kind: "linear" });
    assert.equal(await child.go(), 0);
    const text = renderPrometheus(registry);
    assert.match(text, /^tsbcc_test_calls_total 1000$/m);
    const comm = syscallLoop("getppid").split("/").pop()!.slice(0, 15);
    assert.match(text, new RegExp(`^tsbcc_test_calls_by_proc_total\\{pid="${child.pid}",comm="${comm}"\\} 1000$`, "m"));
    for (let i = 0; i < 8; i++) assert.match(text, new RegExp(`^tsbcc_test_mod8_bucket\\{le="${i}"\\} ${125 * (i + 1)}$`, "m"));
    assert.match(text, /^tsbcc_test_mod8_count 1000$/m);
    assert.match(text, /^tsbcc_test_mod8_sum 3500$/m); // 125 * (0 + 1 + ... + 7): linear slots are exact values
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, fds);
});
