// Tier 1 for the table classes: codecs, BTF adapter, typed key/value errors, array index rules and the
// histogram glue. No syscalls: every check here fails before a table would talk to the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesCodec, perCpuCodec, rawCodec, round8, u32Codec, u64Codec, type KeyValueCodec } from "../../src/api/tables/codec.js";
import { btfCodec } from "../../src/api/tables/codec-btf.js";
import { TableKeyError, TableValueError, describeValue } from "../../src/api/tables/errors.js";
import { HashTable, Table, type TableInfo } from "../../src/api/tables/table.js";
import { ArrayTable } from "../../src/api/tables/array.js";
import { PerCpuHashTable } from "../../src/api/tables/percpu.js";
import { QueueStackTable } from "../../src/api/tables/queue.js";
import { createTable, UnknownTableTypeError } from "../../src/api/tables/factory.js";
import { MapType } from "../../src/sys/abi.js";
import { Btf } from "../../src/btf/index.js";
import { ElfFile } from "../../src/elf/index.js";
import { SyscallError, type Fd } from "../../src/sys/index.js";
import { batchSupported, resetBatchProbe, tryBatch } from "../../src/api/tables/iter.js";
import { bpfObject, haveClang } from "../helpers/build.js";
import { TABLE_TEST_TYPES_C } from "../helpers/table-types.js";

// Never reaches the kernel in these tests: errors are raised while encoding.
const noFd = { value: -1, closed: false, label: "unit", close() {} } as unknown as Fd;
const info = (over: Partial<TableInfo> = {}): TableInfo =>
  ({ name: "t", mapType: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, ...over });

test("raw codecs: 4 bytes <-> number, 8 bytes <-> bigint, others <-> bytes", () => {
  const b = new Uint8Array(32);
  const u32 = rawCodec(4) as KeyValueCodec<number>;
  u32.encode(0xdeadbeef, b, 3);
  assert.equal(u32.decode(b, 3), 0xdeadbeef);
  u32.encode(-1, b, 3);
  assert.equal(u32.decode(b, 3), 0xffffffff);
  const u64 = rawCodec(8) as KeyValueCodec<bigint>;
  u64.encode(0xfedcba9876543210n, b, 8);
  assert.equal(u64.decode(b, 8), 0xfedcba9876543210n);
  u64.encode(42 as unknown as bigint, b, 8);
  assert.equal(u64.decode(b, 8), 42n);
  u64.encode(-1n, b, 8);
  assert.equal(u64.decode(b, 8), (1n << 64n) - 1n);
  const raw = rawCodec(3) as KeyValueCodec<Uint8Array>;
  raw.encode(Uint8Array.of(1, 2, 3), b, 20);
  const got = raw.decode(b, 20);
  assert.deepEqual([...got], [1, 2, 3]);
  b[20] = 9;
  assert.equal(got[0], 1, "decode copies");
});

test("raw codecs reject wrong types, lengths and out-of-range integers", () => {
  const b = new Uint8Array(16);
  assert.throws(() => u32Codec().encode(2 ** 32, b, 0), /u32: out of range for 32 bits, got number 4294967296/);
  assert.throws(() => u32Codec().encode(1.5, b, 0), /not an integer/);
  assert.throws(() => u32Codec().encode("7" as unknown as number, b, 0), /not an integer, got string "7"/);
  assert.throws(() => u64Codec().encode(1n << 64n, b, 0), /out of range for 64 bits/);
  assert.throws(() => u64Codec().encode((2 ** 60) as unknown as bigint, b, 0), /safe integers; use a bigint/);
  assert.throws(() => bytesCodec(6).encode(new Uint8Array(5), b, 0), /char\[6\]: expected 6 bytes, got 5/);
});

test("per-CPU codec: one 8-byte-aligned slot per CPU", () => {
  assert.equal(round8(4), 8);
  assert.equal(round8(12), 16);
  const c = perCpuCodec(u32Codec(), 3);
  assert.equal(c.size, 24);
  const b = new Uint8Array(24);
  c.encode([1, 2, 3], b, 0);
  assert.deepEqual([...b.subarray(0, 9)], [1, 0, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual(c.decode(b, 0), [1, 2, 3]);
  assert.throws(() => c.encode([1, 2], b, 0), /expected 3 per-CPU values \(one per possible CPU\), got 2/);
  assert.throws(() => c.encode(5 as unknown as number[], b, 0), /expected an array/);
});

test("typed errors name the table, the C type and what was given", () => {
  const t = new HashTable(info({ name: "counts" }), noFd, u32Codec("u32"), u64Codec("u64"));
  assert.throws(() => t.get("x" as unknown as number), (e: unknown) => {
    assert.ok(e instanceof TableKeyError);
    assert.equal(e.table, "counts");
    assert.match(e.message, /^table "counts": invalid key: expected u32 \(4 bytes\), got string "x"/);
    return true;
  });
  assert.throws(() => t.set(1, 1.5 as unknown as bigint), (e: unknown) => {
    assert.ok(e instanceof TableValueError);
    assert.match(e.message, /table "counts": invalid value: expected u64 \(8 bytes\), got number 1.5/);
    return true;
  });
  const raw = new HashTable(info({ name: "blob", keySize: 6, valueSize: 3 }), noFd, rawCodec(6), rawCodec(3));
  assert.throws(() => raw.delete(new Uint8Array(5)), /table "blob": invalid key: expected raw bytes, no BTF \(6 bytes\), got Uint8Array\(5 bytes\)/);
  assert.throws(() => raw.has(new Uint8Array(7)), TableKeyError);
  assert.equal(describeValue({ a: 1, b: 2 }), "object {a, b}");
  assert.equal(describeValue([1, 2]), "array of length 2");
});

test("array tables take integer indices, wrap negatives once and reject out of range", () => {
  const a = new ArrayTable(info({ name: "arr", mapType: MapType.ARRAY, maxEntries: 10 }), noFd, u64Codec());
  assert.equal(a.index(0), 0);
  assert.equal(a.index(-1), 9);
  assert.equal(a.index(-10), 0);
  assert.equal(a.index(9n), 9);
  assert.throws(() => a.index(10), { code: "TABLE_KEY" });
  assert.throws(() => a.index(-11), /table "arr": index -11 out of range for 10 entries/);
  assert.throws(() => a.get(1.5), TableKeyError);
  assert.throws(() => a.get("1" as unknown as number), /expected an integer index 0..9, got string "1"/);
  assert.equal(a.size, 10);
  assert.deepEqual([...a.keys()], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("factory picks classes by map type and checks codec sizes", () => {
  const mk = (mapType: number, o: Partial<TableInfo> = {}) => createTable(info({ mapType, ...o }), noFd, {}, { ncpus: 2 });
  assert.ok(mk(MapType.HASH) instanceof HashTable);
  assert.ok(mk(MapType.ARRAY) instanceof ArrayTable);
  assert.ok(mk(MapType.PERCPU_HASH) instanceof PerCpuHashTable);
  assert.ok(mk(MapType.QUEUE, { keySize: 0 }) instanceof QueueStackTable);
  assert.throws(() => mk(MapType.STRUCT_OPS), UnknownTableTypeError); // SOCKMAP has a table now (src/api/tables/net.ts).
  assert.throws(() => createTable(info(), noFd, { key: u64Codec() }), /key type u64 is 8 bytes but the map's key_size is 4/);
  const p = createTable(info({ mapType: MapType.PERCPU_ARRAY, valueSize: 4 }), noFd, {}, { ncpus: 3 }) as unknown as Table;
  assert.equal((p as unknown as { ncpus: number }).ncpus, 3);
  assert.match(p.valueType, /\[3 possible CPUs\] \(24 bytes\)/);
});

/** A table whose entries come from memory, to test the histogram glue without a map. */
class FixedTable extends HashTable<unknown, bigint> {
  constructor(private readonly data: Array<[unknown, bigint]>) {
    super(info({ name: "h" }), noFd, rawCodec(4), u64Codec());
  }
  override *entries(): IterableIterator<[unknown, bigint]> {
    yield* this.data;
  }
}

test("histograms: int keys are slots, struct keys give one section per first field", () => {
  const flat = new FixedTable([[1, 1n], [3, 4n]]);
  const text = flat.formatLog2Hist("usecs");
  assert.match(text, /^ {5}usecs {15}: count {5}distribution\n/);
  assert.match(text, /\n {9}4 -> 7 {10}: 4 {8}\|\*{40}\|\n$/);
  let printed = "";
  flat.printLinearHist("x", { out: { write: (s: string) => (printed += s) } });
  assert.equal(printed, flat.formatLinearHist("x"));
  const sections = new FixedTable([[{ comm: "a", slot: 1 }, 2n], [{ comm: "b", slot: 2 }, 1n]]);
  const s = sections.formatLog2Hist("kbytes", { sectionHeader: "comm" });
  assert.match(s, /^\ncomm = 'a'\n/);
  assert.match(s, /\ncomm = 'b'\n/);
});

const TYPES_C = `${TABLE_TEST_TYPES_C}struct key_t g_key; struct padded g_padded; struct nested g_nested;
`;

test("BTF adapter: struct keys with padding, char arrays, nested structs and unions", { skip: !haveClang && "clang is needed" }, () => {
  const elf = ElfFile.parse(bpfObject(TYPES_C));
  const btf = Btf.parse(elf.section(".BTF")!.data);
  const id = (name: string) => btf.findId("struct", name);
  const key = btfCodec<{ pid: number; tid: number; comm: string }>(btf, id("key_t"));
  assert.equal(key.size, 24);
  assert.equal(key.cType, "struct key_t");
  const b = new Uint8Array(64);
  key.encode({ pid: 7, tid: 8, comm: "bash" }, b, 8);
  assert.deepEqual(key.decode(b, 8), { pid: 7, tid: 8, comm: "bash" });
  assert.equal(b[8 + 8], "b".charCodeAt(0));

  const padded = btfCodec(btf, id("padded"));
  assert.equal(padded.size, 24);
  const pb = new Uint8Array(24).fill(0xff);
  pb.fill(0);
  padded.encode({ a: 1, b: 2n, c: 3 }, pb, 0);
  assert.deepEqual([...pb.subarray(1, 8)], [0, 0, 0, 0, 0, 0, 0], "padding bytes are zero");
  assert.deepEqual(padded.decode(pb, 0), { a: 1, b: 2n, c: 3 });

  const nested = btfCodec(btf, id("nested"));
  const nb = new Uint8Array(nested.size);
  nested.encode({ in: { x: 1, y: 2 }, un: { u: 0x04030201 }, name: "abc" }, nb, 0);
  assert.deepEqual(nested.decode(nb, 0), { in: { x: 1, y: 2 }, un: { u: 0x04030201, bytes: [1, 2, 3, 4] }, name: "abc" });

  // Through a table: the codec's error becomes a TableKeyError naming the struct.
  const t = new HashTable(info({ name: "bykey", keySize: 24 }), noFd, key, u64Codec());
  assert.throws(() => t.get({ pid: 1, tid: 2, comm: "x", bogus: 1 } as never), (e: unknown) => {
    assert.ok(e instanceof TableKeyError);
    assert.match(e.message, /table "bykey": invalid key: expected struct key_t \(24 bytes\), got object \{pid, tid, comm, bogus\}/);
    assert.match(e.message, /bogus/);
    return true;
  });
  assert.throws(() => t.get({ pid: 2 ** 32, tid: 0, comm: "" }), /table "bykey": invalid key.*pid/);
});

test("batch probe: EINVAL/ENOTSUPP on first use marks the command unsupported per map type; other errors propagate", () => {
  resetBatchProbe();
  const fail = (errno: number) => () => {
    throw new SyscallError("bpf(BPF_MAP_LOOKUP_BATCH)", errno);
  };
  assert.equal(tryBatch(11, "lookup", fail(524)), undefined);
  assert.equal(batchSupported(11, "lookup"), false);
  let called = false;
  assert.equal(tryBatch(11, "lookup", () => (called = true)), undefined, "not retried once known unsupported");
  assert.equal(called, false);
  assert.equal(batchSupported(11, "update"), undefined, "cached per command");
  assert.equal(tryBatch(1, "lookup", () => 7), 7);
  assert.equal(batchSupported(1, "lookup"), true);
  assert.throws(() => tryBatch(1, "lookup", fail(22)), SyscallError, "EINVAL after success is a real error");
  assert.throws(() => tryBatch(2, "delete", fail(2)), SyscallError, "ENOENT is not 'unsupported'");
  assert.equal(batchSupported(2, "delete"), undefined);
  resetBatchProbe();
});

test("queue/stack push validates values before any syscall", () => {
  const q = new QueueStackTable(info({ name: "q", mapType: MapType.QUEUE, keySize: 0, valueSize: 8 }), noFd, u64Codec());
  assert.throws(() => q.push("x" as unknown as bigint), /table "q": invalid value: expected u64 \(8 bytes\), got string "x"/);
  assert.throws(() => new QueueStackTable(info({ valueSize: 4 }), noFd, u64Codec()), /value codec is 8 bytes but the map's value_size is 4/);
});
