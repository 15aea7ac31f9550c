// Tier 2: every table type against real maps. Values written from TypeScript and by a BPF program read back
// through the typed tables; batch and per-key walks agree; per-CPU values have one slot per possible CPU.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bpf, SyscallError, liveFds, type Fd } from "../../src/sys/index.js";
import { MapType } from "../../src/sys/abi.js";
import { Btf } from "../../src/btf/index.js";
import { ElfFile } from "../../src/elf/index.js";
import { createTable, type CreateTableOptions, type TableCodecs } from "../../src/api/tables/factory.js";
import { btfCodec } from "../../src/api/tables/codec-btf.js";
import { HashTable, LpmTrieTable, LruHashTable, type Table } from "../../src/api/tables/table.js";
import { ArrayTable } from "../../src/api/tables/array.js";
import { PerCpuArrayTable, PerCpuHashTable, LruPerCpuHashTable } from "../../src/api/tables/percpu.js";
import { QueueStackTable } from "../../src/api/tables/queue.js";
import { PerfEventArrayTable, ProgArrayTable, RingBufTable, StackTraceTable } from "../../src/api/tables/special.js";
import { TableKeyError, TableValueError } from "../../src/api/tables/errors.js";
import { bpfObject } from "../helpers/build.js";
import { TABLE_TEST_TYPES_C } from "../helpers/table-types.js";
import { Asm, R0, R1, R2, R3, R4, R6, R10, loadProgram } from "../helpers/asm.js";
import { missing } from "../helpers/root.js";

const skip = missing("root", "clang");

const TYPES_C = `${TABLE_TEST_TYPES_C}struct pval { u32 a; u64 b; };
struct lpm_key { u32 prefixlen; u8 data[4]; };
struct hist_key { char comm[8]; u64 slot; };
struct key_t g1; struct padded g2; struct nested g3; struct pval g4; struct lpm_key g5; struct hist_key g6; u64 g7; u32 g8;
`;

const btf = skip ? undefined : Btf.parse(ElfFile.parse(bpfObject(TYPES_C)).section(".BTF")!.data);
const struct = (name: string) => btfCodec(btf!, btf!.findId("struct", name));
const typedef = (name: string) => btfCodec(btf!, btf!.findId("typedef", name));
const possibleCpus = (() => {
  let n = 0;
  for (const part of readFileSync("/sys/devices/system/cpu/possible", "utf8").trim().split(",")) {
    const [a, b] = part.split("-").map(Number);
    n += (b ?? a!) - a! + 1;
  }
  return n;
})();

const opened: Fd[] = [];
const fdsBefore = liveFds().size;
after(() => {
  for (const fd of opened) fd.close();
  assert.equal(liveFds().size, fdsBefore, "every map fd was closed");
});

function mk<T>(mapType: number, keySize: number, valueSize: number, maxEntries: number, codecs: TableCodecs = {},
  options: CreateTableOptions = {}, flags = 0): T {
  const name = `tt_${mapType}`;
  const fd = bpf.mapCreate({ mapType, keySize, valueSize, maxEntries, flags, name });
  opened.push(fd);
  return createTable({ name, mapType, keySize, valueSize, maxEntries, flags }, fd, codecs, options) as T;
}

/** Full walk with batch lookups and with get_next_key, asserting both give the same entries. */
function walkBoth<K, V>(t: Table<K, V>): Array<[K, V]> {
  t.useBatch = true;
  const batch = [...t];
  t.useBatch = false;
  const slow = [...t];
  t.useBatch = true;
  const norm = (xs: Array<[K, V]>) => xs.map((e) => JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))).sort();
  assert.deepEqual(norm(batch), norm(slow), "batch and get_next_key walks agree");
  return batch;
}

type Key = { pid: number; tid: number; comm: string };

test("HASH with a BTF struct key: get/set/delete/has, flags, size, clear, zero", { skip }, () => {
  const t = mk<HashTable<Key, bigint>>(MapType.HASH, 24, 8, 64, { key: struct("key_t"), value: typedef("u64") });
  assert.ok(t instanceof HashTable);
  assert.equal(t.get({ pid: 1, tid: 1, comm: "x" }), undefined);
  t.set({ pid: 1, tid: 2, comm: "bash" }, 10n).set({ pid: 3, tid: 4, comm: "a-fifteen-chars" }, 20n);
  assert.equal(t.get({ pid: 1, tid: 2, comm: "bash" }), 10n);
  assert.equal(t.get({ pid: 3, tid: 4, comm: "a-fifteen-chars" }), 20n);
  assert.equal(t.has({ pid: 1, tid: 2, comm: "bash" }), true);
  assert.equal(t.has({ pid: 1, tid: 2, comm: "bas" }), false);
  assert.equal(t.size, 2);
  assert.throws(() => t.set({ pid: 1, tid: 2, comm: "bash" }, 1n, "noexist"),
    (e: unknown) => e instanceof SyscallError && e.errnoCode === "EEXIST" && /table "tt_1"/.test(e.message));
  assert.throws(() => t.set({ pid: 9, tid: 9, comm: "" }, 1n, "exist"), (e: unknown) => e instanceof SyscallError && e.errnoCode === "ENOENT");
  t.set({ pid: 1, tid: 2, comm: "bash" }, 11n, "exist");
  const entries = walkBoth(t);
  assert.deepEqual(new Map(entries.map(([k, v]) => [k.comm, v])), new Map([["bash", 11n], ["a-fifteen-chars", 20n]]));
  assert.deepEqual([...t.keys()].map((k) => k.pid).sort(), [1, 3]);
  assert.deepEqual([...t.values()].sort(), [11n, 20n]);
  t.zero();
  assert.deepEqual([...t.values()], [0n, 0n]);
  assert.equal(t.delete({ pid: 1, tid: 2, comm: "bash" }), true);
  assert.equal(t.delete({ pid: 1, tid: 2, comm: "bash" }), false);
  t.clear();
  assert.equal(t.size, 0);
  assert.deepEqual([...t], []);
});

test("struct keys with padding, nested structs and unions round-trip through a map", { skip }, () => {
  const t = mk<HashTable>(MapType.HASH, 24, 20, 8, { key: struct("padded"), value: struct("nested") });
  const key = { a: 7, b: 1n << 40n, c: 65535 };
  const value = { in: { x: 1, y: 2 }, un: { u: 0x04030201, bytes: [1, 2, 3, 4] }, name: "abcde" };
  t.set(key, value);
  assert.deepEqual(t.get(key), value);
  // The padding after `a` is zero in what we wrote: the same key given as raw bytes finds the entry.
  const raw = new Uint8Array(24);
  raw[0] = 7;
  new DataView(raw.buffer).setBigUint64(8, 1n << 40n, true);
  new DataView(raw.buffer).setUint16(16, 65535, true);
  assert.deepEqual(t.get(raw), value);
  assert.deepEqual(walkBoth(t), [[key, value]]);
  assert.throws(() => t.set({ a: 256, b: 0n, c: 0 }, value), TableKeyError);
  assert.throws(() => t.set(key, { nope: 1 }), (e: unknown) => e instanceof TableValueError && /struct nested/.test(e.message));
});

test("batch walks: 5000 entries, tiny batches force ENOSPC growth, lookup-and-delete, update and delete batches", { skip }, () => {
  const t = mk<HashTable<Key, bigint>>(MapType.HASH, 24, 8, 5000, { key: struct("key_t"), value: typedef("u64") });
  const entries: Array<[Key, bigint]> = [];
  for (let i = 0; i < 5000; i++) entries.push([{ pid: i, tid: i * 3, comm: `c${i % 97}` }, BigInt(i) * 7n]);
  assert.equal(t.itemsUpdateBatch(entries), 5000);
  assert.equal(t.size, 5000);
  const all = walkBoth(t);
  assert.equal(all.length, 5000);
  for (const [k, v] of all) assert.equal(v, BigInt(k.pid) * 7n);
  // One entry per call: buckets holding two or more entries make the kernel answer ENOSPC, and the walker
  // must grow its buffers and still return everything exactly once.
  t.batchEntries = 1;
  const pids = [...t.keys()].map((k) => k.pid).sort((a, b) => a - b);
  assert.deepEqual(pids, entries.map(([k]) => k.pid));
  t.batchEntries = undefined;
  assert.equal(t.itemsLookupBatch().length, 5000);
  assert.equal(t.itemsDeleteBatch(entries.slice(0, 1000).map(([k]) => k)), 1000);
  assert.equal(t.size, 4000);
  const drained = t.itemsLookupAndDeleteBatch();
  assert.equal(drained.length, 4000);
  assert.equal(t.size, 0);
  t.itemsUpdateBatch(entries.slice(0, 10));
  assert.equal(t.itemsDeleteBatch(), 10);
  assert.equal(t.size, 0);
  assert.throws(() => t.itemsUpdateBatch([]), { code: "BAD_ARGUMENT", argument: "entries" });
});

test("LRU_HASH and raw (no BTF) tables; wrong key sizes raise TableKeyError", { skip }, () => {
  const t = mk<LruHashTable>(MapType.LRU_HASH, 8, 4, 128);
  assert.ok(t instanceof LruHashTable);
  t.set(5n, 6).set(1n << 63n, 0xffffffff);
  assert.equal(t.get(5n), 6);
  assert.equal(t.get(1n << 63n), 0xffffffff);
  assert.deepEqual(walkBoth(t).sort((a, b) => (a[0] < b[0] ? -1 : 1)), [[5n, 6], [1n << 63n, 0xffffffff]]);
  assert.throws(() => t.get(new Uint8Array(4)), TableKeyError);
  assert.throws(() => t.set(1n, 2 ** 32), TableValueError);
  const blob = mk<HashTable<Uint8Array, Uint8Array>>(MapType.HASH, 6, 3, 8);
  blob.set(Uint8Array.of(1, 2, 3, 4, 5, 6), Uint8Array.of(9, 8, 7));
  assert.deepEqual([...blob.get(Uint8Array.of(1, 2, 3, 4, 5, 6))!], [9, 8, 7]);
  assert.throws(() => blob.get(new Uint8Array(7)), /table "tt_1": invalid key: expected raw bytes, no BTF \(6 bytes\), got Uint8Array\(7 bytes\)/);
  assert.throws(() => blob.set(new Uint8Array(6), new Uint8Array(2)), TableValueError);
});

test("ARRAY: negative indices, delete and clear zero, size is max_entries", { skip }, () => {
  const a = mk<ArrayTable<bigint>>(MapType.ARRAY, 4, 8, 10, { value: typedef("u64") });
  assert.equal(a.size, 10);
  a.set(0, 5n).set(-1, 9n);
  assert.equal(a.get(9), 9n);
  assert.equal(a.get(-10), 5n);
  assert.equal(a.get(3), 0n);
  assert.throws(() => a.get(10), { code: "TABLE_KEY" });
  const all = walkBoth(a);
  assert.deepEqual(all.map(([k]) => k), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(all.map(([, v]) => v), [5n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 9n]);
  assert.equal(a.delete(0), true);
  assert.equal(a.get(0), 0n);
  a.set(4, 4n);
  a.clear();
  assert.deepEqual([...a.values()], new Array(10).fill(0n));
  a.itemsUpdateBatch([[1, 11n], [2, 22n]]);
  assert.deepEqual(a.itemsLookupBatch().slice(0, 3), [[0, 0n], [1, 11n], [2, 22n]]);
});

test("per-CPU tables: one value per possible CPU, sum/max/average, reducer", { skip }, () => {
  assert.ok(possibleCpus >= 1);
  const h = mk<PerCpuHashTable<number, number>>(MapType.PERCPU_HASH, 4, 4, 16, { value: typedef("u32") });
  assert.ok(h instanceof PerCpuHashTable);
  assert.equal(h.ncpus, possibleCpus);
  const vals = Array.from({ length: possibleCpus }, (_, i) => i + 1);
  h.set(7, vals);
  assert.deepEqual(h.get(7), vals);
  assert.equal(h.get(7)!.length, possibleCpus);
  assert.equal(h.sum(7), (possibleCpus * (possibleCpus + 1)) / 2);
  assert.equal(h.max(7), possibleCpus);
  assert.equal(h.average(7), (possibleCpus + 1) / 2);
  assert.equal(h.getReduced(7), h.sum(7));
  assert.equal(h.sum(8), undefined);
  assert.deepEqual(walkBoth(h), [[7, vals]]);
  assert.throws(() => h.set(1, new Array(possibleCpus + 1).fill(1)), /expected \d+ per-CPU values/);

  const s = mk<PerCpuArrayTable<{ a: number; b: bigint }>>(MapType.PERCPU_ARRAY, 4, 16, 4, { value: struct("pval") },
    { reducer: (x: { a: number; b: bigint }, y: { a: number; b: bigint }) => ({ a: x.a + y.a, b: x.b + y.b }) });
  assert.equal(s.get(3)!.length, possibleCpus);
  s.set(1, Array.from({ length: possibleCpus }, (_, i) => ({ a: i, b: BigInt(i) << 40n })));
  assert.deepEqual(s.get(1)![possibleCpus - 1], { a: possibleCpus - 1, b: BigInt(possibleCpus - 1) << 40n });
  const sumA = (possibleCpus * (possibleCpus - 1)) / 2;
  assert.deepEqual(s.getReduced(1), { a: sumA, b: BigInt(sumA) << 40n });
  assert.equal(walkBoth(s).length, 4);
  assert.equal(s.delete(1), true);
  assert.deepEqual(s.get(1), Array.from({ length: possibleCpus }, () => ({ a: 0, b: 0n })));

  const l = mk<LruPerCpuHashTable<bigint, bigint>>(MapType.LRU_PERCPU_HASH, 8, 8, 16);
  assert.ok(l instanceof LruPerCpuHashTable);
  l.set(1n, new Array(possibleCpus).fill(3n));
  assert.equal(l.sum(1n), 3n * BigInt(possibleCpus));
  assert.deepEqual(walkBoth(l), [[1n, new Array(possibleCpus).fill(3n)]]);
});

test("LPM_TRIE: longest-prefix lookups, iteration and size", { skip }, () => {
  const t = mk<LpmTrieTable>(MapType.LPM_TRIE, 8, 8, 16, { key: struct("lpm_key"), value: typedef("u64") }, {}, 1 /* NO_PREALLOC */);
  assert.ok(t instanceof LpmTrieTable);
  t.set({ prefixlen: 8, data: [10, 0, 0, 0] }, 8n);
  t.set({ prefixlen: 24, data: [10, 1, 2, 0] }, 24n);
  assert.equal(t.get({ prefixlen: 32, data: [10, 1, 2, 3] }), 24n);
  assert.equal(t.get({ prefixlen: 32, data: [10, 9, 9, 9] }), 8n);
  assert.equal(t.get({ prefixlen: 32, data: [11, 0, 0, 0] }), undefined);
  assert.equal(t.size, 2);
  assert.deepEqual(walkBoth(t).map(([k, v]) => [k.prefixlen, v]).sort(), [[24, 24n], [8, 8n]]);
  assert.equal(t.delete({ prefixlen: 8, data: [10, 0, 0, 0] }), true);
  assert.equal(t.size, 1);
});

test("QUEUE and STACK: push/pop/peek order, undefined when empty, values() drains", { skip }, () => {
  const q = mk<QueueStackTable<bigint>>(MapType.QUEUE, 0, 8, 3, { value: typedef("u64") });
  assert.equal(q.pop(), undefined);
  assert.equal(q.peek(), undefined);
  q.push(1n);
  q.push(2n);
  q.push(3n);
  assert.throws(() => q.push(4n), (e: unknown) => e instanceof SyscallError && e.errnoCode === "E2BIG");
  q.push(4n, "exist");
  assert.equal(q.peek(), 2n);
  assert.deepEqual([...q.values()], [2n, 3n, 4n]);
  assert.equal(q.pop(), undefined);
  const s = mk<QueueStackTable<{ a: number; b: bigint }>>(MapType.STACK, 0, 16, 4, { value: struct("pval") });
  s.push({ a: 1, b: 10n });
  s.push({ a: 2, b: 20n });
  assert.deepEqual(s.pop(), { a: 2, b: 20n });
  assert.deepEqual(s.peek(), { a: 1, b: 10n });
  assert.throws(() => s.push({ a: -1, b: 0n } as never), TableValueError);
});

test("PROG_ARRAY, PERF_EVENT_ARRAY, STACK_TRACE and RINGBUF tables", { skip }, () => {
  const prog = loadProgram(1, new Asm().movImm(R0, 0).exit().assemble(), "tt_prog");
  opened.push(prog);
  const pa = mk<ProgArrayTable>(MapType.PROG_ARRAY, 4, 4, 4);
  assert.ok(pa instanceof ProgArrayTable);
  pa.set(2, prog);
  const info = new Uint8Array(256);
  bpf.objInfo(prog.value, info);
  const progId = new DataView(info.buffer).getUint32(4, true);
  assert.equal(pa.get(2), progId, "the kernel reports the program id for a slot");
  assert.equal(pa.get(1), undefined);
  assert.deepEqual([...pa], [[2, progId]]);
  assert.equal(pa.delete(2), true);
  assert.equal(pa.delete(2), false);

  const pe = mk<PerfEventArrayTable>(MapType.PERF_EVENT_ARRAY, 4, 4, possibleCpus);
  assert.ok(pe instanceof PerfEventArrayTable);
  assert.equal(pe.size, possibleCpus);
  assert.equal(pe.delete(0), false);

  const st = mk<StackTraceTable>(MapType.STACK_TRACE, 4, 127 * 8, 16);
  assert.ok(st instanceof StackTraceTable);
  assert.deepEqual([...st.walk(3)], []);
  assert.equal(st.size, 0);
  st.clear();
  assert.equal(st.delete(3), false);

  const rb = mk<RingBufTable>(MapType.RINGBUF, 0, 0, 4096);
  assert.ok(rb instanceof RingBufTable);
  assert.equal(rb.size, 0);
  assert.deepEqual([...rb], []);
});

test("values written by a BPF program read back typed (hash struct key, per-CPU counter)", { skip }, () => {
  const h = mk<HashTable<Key, bigint>>(MapType.HASH, 24, 8, 8, { key: struct("key_t"), value: typedef("u64") });
  const pc = mk<PerCpuArrayTable<bigint>>(MapType.PERCPU_ARRAY, 4, 8, 1, { value: typedef("u64") });
  const comm = 0x676f7270; // "prog" little-endian
  const a = new Asm()
    .st("W", R10, -24, 1234).st("W", R10, -20, 5678).st("DW", R10, -16, comm).st("DW", R10, -8, 0)
    .st("DW", R10, -32, 42)
    .ldMapFd(R1, h.fd.value).mov(R2, R10).aluImm("ADD", R2, -24).mov(R3, R10).aluImm("ADD", R3, -32).movImm(R4, 0)
    .call(2 /* map_update_elem */)
    .st("W", R10, -36, 0).ldMapFd(R1, pc.fd.value).mov(R2, R10).aluImm("ADD", R2, -36).call(1 /* map_lookup_elem */)
    .jmpImm("JEQ", R0, 0, "out").movImm(R1, 1).atomicAdd64(R0, 0, R1)
    .label("out").movImm(R0, 0).exit();
  const prog = loadProgram(1, a.assemble(), "tt_writer");
  opened.push(prog);
  bpf.progTestRun({ progFd: prog.value, dataIn: new Uint8Array(64), repeat: 25 });
  assert.deepEqual(walkBoth(h), [[{ pid: 1234, tid: 5678, comm: "prog" }, 42n]]);
  assert.equal(h.get({ pid: 1234, tid: 5678, comm: "prog" }), 42n);
  const perCpu = pc.get(0)!;
  assert.equal(perCpu.length, possibleCpus);
  assert.equal(pc.sum(0), 25n, "every run counted on some CPU");
});

test("histograms from a real map: u64 slot keys and struct keys", { skip }, () => {
  const t = mk<HashTable>(MapType.HASH, 16, 8, 64, { key: struct("hist_key"), value: typedef("u64") });
  t.set({ comm: "sh", slot: 1n }, 3n).set({ comm: "sh", slot: 3n }, 6n).set({ comm: "ls", slot: 2n }, 1n);
  const text = t.formatLog2Hist("usecs", { sectionHeader: "comm", bucketSortFn: (b) => [...b].sort() });
  assert.match(text, /^\ncomm = 'ls'\n {5}usecs {15}: count {5}distribution\n {9}0 -> 1 {10}: 0 /);
  assert.match(text, /\ncomm = 'sh'\n[^]* {9}4 -> 7 {10}: 6 {8}\|\*{40}\|\n$/);
  const arr = mk<ArrayTable<bigint>>(MapType.ARRAY, 4, 8, 8, { value: typedef("u64") });
  arr.set(0, 2n).set(2, 4n);
  assert.equal(arr.formatLinearHist("fd"),
    "     fd            : count     distribution\n" +
    "        0          : 2        |********************                    |\n" +
    "        1          : 0        |                                        |\n" +
    "        2          : 4        |****************************************|\n");
});

test("STACK_TRACE: a kernel stack recorded by bpf_get_stackid walks to kernel addresses", { skip }, () => {
  const st = mk<StackTraceTable>(MapType.STACK_TRACE, 4, 127 * 8, 16);
  // A raw tracepoint program run through BPF_PROG_TEST_RUN records the kernel stack of the test run itself.
  const insns = new Asm().mov(R6, R1).mov(R1, R6).ldMapFd(R2, st.fd.value).movImm(R3, 0).call(27 /* get_stackid */).exit().assemble();
  const prog = loadProgram(17 /* RAW_TRACEPOINT */, insns, "tt_stack");
  opened.push(prog);
  const { retval: id } = bpf.progTestRun({ progFd: prog.value, repeat: 0, ctxIn: new Uint8Array(8) });
  assert.ok(id >= 0 && id < 16, `stack id ${id}`);
  const frames = [...st.walk(id)] as bigint[];
  assert.ok(frames.length >= 1 && frames.length < StackTraceTable.MAX_DEPTH);
  for (const f of frames) assert.ok(f >= 0xffff800000000000n, `kernel address ${f.toString(16)}`);
  assert.deepEqual([...st.walk(id, (a) => `0x${(a as bigint).toString(16)}`)], frames.map((f) => `0x${f.toString(16)}`));
  assert.deepEqual([...st.keys()], [id]);
  assert.equal(st.size, 1);
  st.clear();
  assert.equal(st.size, 1, "clear() is a no-op, as in BCC");
  assert.equal(st.delete(id), true);
  assert.equal(st.get(id), undefined);
});
