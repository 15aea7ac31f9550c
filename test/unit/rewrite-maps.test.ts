// Golden tests of map declarations and every map method's generated C (spawns clang; no BPF syscalls).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileMini, skipReason, userLine } from "../fixtures/dialect/harness.js";
import { parseObject } from "../../src/loader/index.js";

const PROGRAM = `#include <linux/sched.h>
struct key_t { u32 pid; char comm[16]; };
struct val_t { u64 count; u64 ts; };
BPF_HASH(counts, u32);
BPF_HASH(vals, struct key_t, struct val_t, 1024);
BPF_ARRAY(arr, u64, 8);
BPF_HISTOGRAM(dist);
BPF_HISTOGRAM(dist2, struct key_t);
BPF_PERCPU_ARRAY(pcpu, u64, 1);
BPF_TABLE("lru_hash", u32, u64, lru, 128);
BPF_PERF_OUTPUT(events);
BPF_RINGBUF_OUTPUT(rb, 8);
BPF_STACK_TRACE(stacks, 1024);
BPF_PROG_ARRAY(progs, 4);
BPF_QUEUE(q, u32, 16);
BPF_STACK(st, u64, 16);
BPF_DEVMAP(dm, 4);
BPF_CPUMAP(cm, 4);
BPF_PERF_ARRAY(pa, 2);
int f1(struct pt_regs *ctx) {
  u32 pid = bpf_get_current_pid_tgid();
  struct key_t k = {}; struct val_t zero = {}, *vp;
  u64 *c = counts.lookup(&pid);
  vp = vals.lookup_or_try_init(&k, &zero);
  vp = vals.lookup_or_init(&k, &zero);
  counts.update(&pid, &zero.count);
  counts.insert(&pid, &zero.count);
  counts.delete(&pid);
  counts.increment(pid);
  counts.increment(pid, 5);
  counts.atomic_increment(pid);
  arr.increment(1);
  dist.increment(bpf_log2l(pid));
  dist2.increment(k);
  lru.increment(pid, 2);
  events.perf_submit(ctx, &k, sizeof(k));
  rb.ringbuf_output(&zero, sizeof(zero), 0);
  struct val_t *r = rb.ringbuf_reserve(sizeof(*r));
  if (r) rb.ringbuf_submit(r, 0);
  if (r) rb.ringbuf_discard(r, 0);
  u64 avail = rb.ringbuf_query(0);
  int id = stacks.get_stackid(ctx, 0);
  progs.call(ctx, 1);
  q.push(&pid, 0); q.pop(&pid); q.peek(&pid);
  u64 v = pa.perf_read(0);
  u64 pv[3]; pa.perf_counter_value(0, &pv, sizeof(pv));
  return dm.redirect_map(1, 0) + cm.redirect_map(0, 0) + (c ? *c : 0) + pcpu.lookup(&id) != 0;
}
`;

const LOOKUP_INIT = (bail: string) =>
  "({ const void *__tsbcc_k = (&k); const void *__tsbcc_i = (&zero); __tsbcc_leaf_vals *__tsbcc_l = bpf_map_lookup_elem((void *)&vals, __tsbcc_k); " +
  "if (!__tsbcc_l) { bpf_map_update_elem((void *)&vals, __tsbcc_k, __tsbcc_i, BPF_NOEXIST); __tsbcc_l = bpf_map_lookup_elem((void *)&vals, __tsbcc_k);" +
  `${bail} } __tsbcc_l; })`;
const INCREMENT = (map: string, key: string, add: string, insert: string | undefined) =>
  `({ __tsbcc_key_${map} __tsbcc_k = (${key}); __tsbcc_leaf_${map} *__tsbcc_l = bpf_map_lookup_elem((void *)&${map}, &__tsbcc_k); if (__tsbcc_l) ${add}` +
  (insert === undefined ? "" : ` else { __tsbcc_leaf_${map} __tsbcc_z; __builtin_memset(&__tsbcc_z, 0, sizeof(__tsbcc_z)); __tsbcc_z += ${insert}; ` +
    `bpf_map_update_elem((void *)&${map}, &__tsbcc_k, &__tsbcc_z, BPF_NOEXIST); }`) + " })";

const RB_DROP = (map: string) =>
  `{ __u32 __tsbcc_dk = 0; __u64 *__tsbcc_dv = bpf_map_lookup_elem((void *)&__tsbcc_drops_${map}, &__tsbcc_dk); if (__tsbcc_dv) __sync_fetch_and_add(__tsbcc_dv, 1); }`;

const GOLDEN: Record<number, string> = {
  10: `BPF_TABLE(lru_hash, u32, u64, lru, 128);`,
  20: `__attribute__((section("prog/f1"), used)) int f1(struct pt_regs *ctx) {`,
  23: `  u64 *c = ((__tsbcc_leaf_counts *)bpf_map_lookup_elem((void *)&counts, (&pid)));`,
  24: `  vp = ${LOOKUP_INIT("")};`,
  25: `  vp = ${LOOKUP_INIT(" if (!__tsbcc_l) return 0;")};`,
  26: `  bpf_map_update_elem((void *)&counts, (&pid), (&zero.count), BPF_ANY);`,
  27: `  bpf_map_update_elem((void *)&counts, (&pid), (&zero.count), BPF_NOEXIST);`,
  28: `  bpf_map_delete_elem((void *)&counts, (&pid));`,
  29: `  ${INCREMENT("counts", "pid", "(*__tsbcc_l) += 1;", "1")};`,
  30: `  ${INCREMENT("counts", "pid", "(*__tsbcc_l) += (5);", "(5)")};`,
  31: `  ${INCREMENT("counts", "pid", "lock_xadd(__tsbcc_l, 1);", "1")};`,
  // Arrays, int-keyed histograms (arrays) and LRU maps never insert on increment (BCC: plain hash only).
  32: `  ${INCREMENT("arr", "1", "(*__tsbcc_l) += 1;", undefined)};`,
  33: `  ${INCREMENT("dist", "bpf_log2l(pid)", "(*__tsbcc_l) += 1;", undefined)};`,
  34: `  ${INCREMENT("dist2", "k", "(*__tsbcc_l) += 1;", "1")};`,
  35: `  ${INCREMENT("lru", "pid", "(*__tsbcc_l) += (2);", undefined)};`,
  // Failed perf_submit and ringbuf_output/reserve calls are counted in the output's hidden per-CPU drop map.
  36: `  ({ long __tsbcc_rb = bpf_perf_event_output((ctx), (void *)&events, BPF_F_CURRENT_CPU, (&k), (sizeof(k))); if (__tsbcc_rb) ${RB_DROP("events")} __tsbcc_rb; });`,
  37: `  ({ long __tsbcc_rb = bpf_ringbuf_output((void *)&rb, (&zero), (sizeof(zero)), (0)); if (__tsbcc_rb) ${RB_DROP("rb")} __tsbcc_rb; });`,
  38: `  struct val_t *r = ({ void *__tsbcc_rb = bpf_ringbuf_reserve((void *)&rb, (sizeof(*r)), 0); if (!__tsbcc_rb) ${RB_DROP("rb")} __tsbcc_rb; });`,
  39: `  if (r) bpf_ringbuf_submit((r), (0));`,
  40: `  if (r) bpf_ringbuf_discard((r), (0));`,
  41: `  u64 avail = bpf_ringbuf_query((void *)&rb, (0));`,
  42: `  int id = bpf_get_stackid((ctx), (void *)&stacks, (0));`,
  43: `  bpf_tail_call((ctx), (void *)&progs, (1));`,
  44: `  bpf_map_push_elem((void *)&q, (&pid), (0)); bpf_map_pop_elem((void *)&q, (&pid)); bpf_map_peek_elem((void *)&q, (&pid));`,
  45: `  u64 v = bpf_perf_event_read((void *)&pa, (0));`,
  46: `  u64 pv[3]; bpf_perf_event_read_value((void *)&pa, (0), (&pv), (sizeof(pv)));`,
  47: `  return bpf_redirect_map((void *)&dm, (1), (0)) + bpf_redirect_map((void *)&cm, (0), (0)) + (c ? *c : 0) + ((__tsbcc_leaf_pcpu *)bpf_map_lookup_elem((void *)&pcpu, (&id))) != 0;`,
};

test("every map method becomes a libbpf helper call on &map (golden)", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(PROGRAM);
  const lines = PROGRAM.split("\n");
  for (let n = 1; n < lines.length; n++) {
    const want = GOLDEN[n] ?? lines[n - 1];
    assert.equal(userLine(r, n), want, `line ${n}`);
  }
  assert.deepEqual(r.metadata.functions, [{ name: "f1", section: "prog/f1" }]);
  // perf_submit's and ringbuf_*'s submitted types, kept in BTF by the epilogue.
  assert.deepEqual(r.metadata.events, { events: "struct key_t", rb: "struct val_t" });
  assert.match(r.rewritten, /__attribute__\(\(section\("\.tsbcc\.types"\), used\)\) struct key_t \*__tsbcc_event__events;/);
  assert.match(r.rewritten, /struct val_t \*__tsbcc_event__rb;/);
  assert.ok(r.object.length > 0 && r.object[0] === 0x7f && r.object[1] === 0x45, "an ELF object");
  // The event types are in the object's BTF even though no program stores them in a map.
  const btf = parseObject(r.object).btf!.btf;
  assert.ok(btf.findIds("struct", "key_t").length > 0, "struct key_t in BTF");
  assert.ok(btf.findIds("struct", "val_t").length > 0, "struct val_t in BTF");
  assert.ok(btf.findIds("var", "__tsbcc_event__events").length > 0);
  // insert() on an array has no effect: BCC warns, so do we.
  assert.ok(!r.warnings.some((w) => w.line === 27), "insert on a hash is fine");
});

test("insert() on an array warns at the user's line", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`BPF_ARRAY(a, u64, 4);\nint f(struct pt_regs *ctx) {\n  int k = 0; u64 v = 1;\n  a.insert(&k, &v);\n  return 0;\n}\n`);
  const w = r.warnings.find((x) => x.message.includes("insert() will have no effect"));
  assert.ok(w, JSON.stringify(r.warnings));
  assert.equal(w.file, "prog.c");
  assert.equal(w.line, 4);
  assert.equal(w.sourceLine, "  a.insert(&k, &v);");
});

test("map macros: BPF_HASH defaults, BPF_TABLE kinds, pinned maps, histogram key int -> array", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`#include <linux/sched.h>
BPF_HASH(h1);
BPF_HASH(h2, u32);
BPF_HASH(h3, u32, u32);
BPF_HASH(h4, u32, u32, 77);
BPF_F_TABLE("hash", u32, u64, ft, 16, BPF_F_NO_PREALLOC);
BPF_TABLE_PINNED("hash", u32, u64, pinned, 64, "/sys/fs/bpf/tsbcc_pinned");
BPF_LPM_TRIE(trie, u64, u32);
int f(struct pt_regs *ctx) { u64 k = 0; u32 k2 = 0; h1.increment(k); h2.increment(k2); h3.increment(k2); h4.increment(k2);
  ft.increment(k2); pinned.increment(k2); trie.lookup(&k); return 0; }
`);
  assert.deepEqual(r.metadata.pinned, { pinned: "/sys/fs/bpf/tsbcc_pinned" });
  assert.equal(userLine(r, 6), `BPF_F_TABLE(hash, u32, u64, ft, 16, BPF_F_NO_PREALLOC);`);
  assert.equal(userLine(r, 7), `BPF_TABLE_PINNED(hash, u32, u64, pinned, 64, "/sys/fs/bpf/tsbcc_pinned");`);
  // A user's BPF_TABLE("hash") behaves as BPF_HASH: increment inserts missing keys.
  assert.match(userLine(r, 10), /pinned, &__tsbcc_k, &__tsbcc_z, BPF_NOEXIST/);
});

test("unsupported map kinds and non-u64 histogram leaves are errors at the declaration", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const { compileError } = await import("../fixtures/dialect/harness.js");
  const e1 = await compileError(`BPF_TABLE("bogus", u32, u64, ext, 16);\nint f(struct pt_regs *ctx) { return 0; }\n`);
  assert.equal(e1.diagnostics[0]!.line, 1);
  assert.match(e1.diagnostics[0]!.message, /unsupported map type "bogus" for map ext/);
  const e2 = await compileError(`\nBPF_TABLE("histogram", int, u32, h, 16);\nint f(struct pt_regs *ctx) { return 0; }\n`);
  assert.equal(e2.diagnostics[0]!.line, 2);
  assert.match(e2.diagnostics[0]!.message, /histogram leaf type must be u64/);
  assert.match(e2.message, /^prog\.c:2:1: error: histogram leaf type must be u64/);
});

test("maps of maps name their inner map; lookups return map pointers", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`BPF_ARRAY(inner1, u64, 4);
BPF_ARRAY_OF_MAPS(outer, "inner1", 8);
BPF_HASH_OF_MAPS(houter, u32, "inner1", 16);
int f(struct pt_regs *ctx) {
  int k = 0;
  void *m = outer.lookup(&k);
  return m != 0;
}
`);
  assert.equal(userLine(r, 2), "BPF_ARRAY_OF_MAPS(outer, inner1, 8);");
  assert.equal(userLine(r, 3), "BPF_HASH_OF_MAPS(houter, u32, inner1, 16);");
  assert.equal(userLine(r, 6), "  void *m = ((__tsbcc_leaf_outer *)bpf_map_lookup_elem((void *)&outer, (&k)));");
});
