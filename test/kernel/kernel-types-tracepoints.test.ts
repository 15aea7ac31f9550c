// Tier 2: tracepoint structs for the running kernel compile against our kernel types, and every member
// sits at the offset tracefs gives for it (checked by clang with _Static_assert).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelTypesInclude, type KernelTypes } from "../../src/dialect/kernel-types.js";
import { parseTracepointFormat, readTracepointFormat, tracepointStruct, tracepointStructName } from "../../src/dialect/tracepoint-struct.js";
import { listTracepoints, tracepointExists, tracepointFormatPath } from "../../src/kernel/tracefs.js";

const CACHE = process.env.TSBCC_CACHE_DIR ?? join(tmpdir(), "tsbcc-test-cache");

// Tracepoints BCC tools and the tests use; the test needs at least 25 of them on the running kernel.
const WANTED = [
  "sched:sched_process_exec", "sched:sched_switch", "sched:sched_wakeup", "sched:sched_wakeup_new",
  "sched:sched_process_fork", "sched:sched_process_exit", "sched:sched_stat_runtime",
  "syscalls:sys_enter_openat", "syscalls:sys_exit_openat", "syscalls:sys_enter_execve", "syscalls:sys_enter_read",
  "syscalls:sys_exit_read", "syscalls:sys_enter_mknodat", "syscalls:sys_enter_landlock_add_rule",
  "raw_syscalls:sys_enter", "raw_syscalls:sys_exit",
  "block:block_rq_issue", "block:block_rq_complete", "block:block_rq_insert", "block:block_io_start",
  "net:netif_receive_skb", "net:net_dev_xmit", "net:net_dev_queue",
  "irq:irq_handler_entry", "irq:irq_handler_exit", "irq:softirq_entry", "irq:softirq_exit",
  "timer:hrtimer_start", "kmem:kmalloc", "kmem:kfree", "tcp:tcp_retransmit_skb", "sock:inet_sock_set_state",
  "signal:signal_generate", "task:task_newtask", "task:task_rename", "power:cpu_frequency",
  "percpu:percpu_alloc_percpu", "xfs:xfs_agfl_free_deferred", "writeback:writeback_dirty_inode",
];

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (tracefs)";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "kernel has no BTF (/sys/kernel/btf/vmlinux)";
  if (spawnSync("clang", ["--version"]).status !== 0) return "clang not installed";
  try {
    tracepointFormatPath("sched", "sched_switch"); // mounts tracefs when needed
  } catch (err) {
    return `no tracefs: ${(err as Error).message}`;
  }
  return undefined;
}

/** C text of the struct plus a _Static_assert per field; line -> tracepoint map for error reports. */
function structWithAsserts(tp: string, lines: string[], owner: string[]): void {
  const [cat, evt] = tp.split(":") as [string, string];
  const text = readTracepointFormat(cat, evt);
  const tag = tracepointStructName(cat, evt);
  const code = [tracepointStruct(cat, evt, { formatText: text })];
  for (const f of parseTracepointFormat(text)) {
    if (f.isCommon) continue;
    const member = f.isDataLoc ? `data_loc_${f.name}` : f.name;
    code.push(`_Static_assert(__builtin_offsetof(struct ${tag}, ${member}) == ${f.offset}, "${tp} ${member}");`);
    if (!f.isDataLoc && f.arrayDim === null && f.size <= 8) {
      code.push(`_Static_assert(sizeof(((struct ${tag} *)0)->${member}) <= ${f.size} || ${f.size} == 0, "${tp} ${member} size");`);
    }
  }
  for (const l of code.join("\n").split("\n")) {
    lines.push(l);
    owner.push(tp);
  }
}

/** Compiles with the kernel types (PCH); returns the tracepoints whose lines had errors, with messages. */
function compile(kt: KernelTypes, lines: string[], owner: string[]): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-tp-"));
  try {
    const file = join(dir, "tp.c");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = spawnSync("clang", [...kt.args, "-fsyntax-only", "-ferror-limit=0", file], { encoding: "utf8", maxBuffer: 64 << 20 });
    const bad = new Map<string, string[]>();
    for (const m of r.stderr.matchAll(/tp\.c:(\d+):\d+: error: (.*)/g)) {
      const tp = owner[Number(m[1]) - 1] ?? "?";
      bad.set(tp, [...(bad.get(tp) ?? []), m[2]!]);
    }
    if (r.status !== 0 && bad.size === 0) bad.set("(clang)", [r.stderr.slice(0, 2000)]);
    return bad;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("structs of 25+ well-known tracepoints compile and match tracefs offsets", async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const kt = await kernelTypesInclude({ cacheDir: CACHE });
  const present = WANTED.filter((tp) => tracepointExists(...(tp.split(":") as [string, string])));
  assert.ok(present.length >= 25, `only ${present.length} of the wanted tracepoints exist: ${present.join(" ")}`);
  for (const core of ["sched:sched_process_exec", "sched:sched_switch", "syscalls:sys_enter_openat", "irq:irq_handler_entry"]) {
    assert.ok(present.includes(core), `${core} missing`);
  }
  const lines: string[] = [];
  const owner: string[] = [];
  for (const tp of present) structWithAsserts(tp, lines, owner);
  const bad = compile(kt, lines, owner);
  assert.deepEqual([...bad].map(([tp, errs]) => `${tp}: ${errs.slice(0, 2).join(" | ")}`), []);
  t.diagnostic(`${present.length} tracepoints, ${lines.filter((l) => l.startsWith("_Static_assert")).length} assertions`);
});

test("sched_process_exec and sched_switch have BCC's member names", async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const exec = tracepointStruct("sched", "sched_process_exec");
  assert.match(exec, /^struct tracepoint__sched__sched_process_exec \{\n\tu64 __do_not_use__;\n\tint data_loc_filename;\n\tpid_t pid;\n\tpid_t old_pid;\n/);
  const sw = tracepointStruct("sched", "sched_switch");
  assert.match(sw, /\tchar prev_comm\[(16|TASK_COMM_LEN)\];\n\tpid_t prev_pid;\n/);
  assert.match(tracepointStruct("syscalls", "sys_enter_openat"), /\tint __syscall_nr;\n(\tchar __pad_\d+;\n){4}\ts64 dfd;\n\tconst char \* filename;\n/);
});

test("every tracepoint of the running kernel gives a struct whose offsets match", async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const kt = await kernelTypesInclude({ cacheDir: CACHE });
  const all = listTracepoints();
  const lines: string[] = [];
  const owner: string[] = [];
  const unreadable: string[] = [];
  for (const tp of all) {
    try {
      structWithAsserts(tp, lines, owner);
    } catch (err) {
      unreadable.push(`${tp}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(unreadable, []);
  const started = performance.now();
  const bad = compile(kt, lines, owner);
  t.diagnostic(`${all.length} tracepoints compiled in ${(performance.now() - started).toFixed(0)} ms`);
  assert.deepEqual([...bad].map(([tp, errs]) => `${tp}: ${errs.slice(0, 2).join(" | ")}`), []);
});

test("a missing tracepoint is reported by name", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  assert.throws(() => tracepointStruct("sched", "no_such_event_here"), (err: Error) => {
    assert.match(err.message, /sched:no_such_event_here/);
    assert.match(err.message, /does not exist/);
    return true;
  });
  assert.throws(() => tracepointStruct("no_such_category", "sched_switch"), /no_such_category:sched_switch does not exist/);
});

test("tracepoint struct generation is fast enough to run per compile", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  tracepointStruct("sched", "sched_switch");
  const started = performance.now();
  for (let i = 0; i < 100; i++) tracepointStruct("sched", "sched_switch");
  const per = (performance.now() - started) / 100;
  t.diagnostic(`${per.toFixed(3)} ms per struct`);
  assert.ok(per < 5, `${per} ms per struct`);
});
