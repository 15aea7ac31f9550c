// Map benchmark, tsbcc next to BCC in the same run (`npm run bench:maps`, as root).
//
// A HASH map of 100,000 entries, key `struct key_t { u32 pid; u32 tid; char comm[16]; }`, value u64:
//   - fill from user space with one batch update;
//   - full typed iteration (median of 5): every key decoded to { pid, tid, comm } and every value to a bigint;
//   - the same walk without batch syscalls (get_next_key + lookup per key, what BCC's items() does);
//   - the kernel's share: BPF_MAP_LOOKUP_BATCH alone, no decoding.
// BCC (Debian's python3-bpfcc, run with /usr/bin/python3) fills its own identical map with items_update_batch
// and times items() and items_lookup_batch(). When BCC cannot compile C here (no kernel headers), its map is
// created with a raw bpf() call from ctypes and wrapped in bcc.table.HashTable, so the table code measured
// is still BCC's.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Btf } from "../src/btf/index.js";
import { ElfFile } from "../src/elf/index.js";
import { btfCodec } from "../src/api/tables/codec-btf.js";
import { HashTable } from "../src/api/tables/table.js";
import { createTable } from "../src/api/tables/factory.js";
import { MapType } from "../src/sys/abi.js";
import { bpf } from "../src/sys/index.js";

const N = 100_000;
const RUNS = 5;
const KEY_C = "struct key_t { unsigned int pid; unsigned int tid; char comm[16]; };";

type Key = { pid: number; tid: number; comm: string };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function keyBtf(): Btf {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-bench-"));
  try {
    writeFileSync(join(dir, "k.c"), `${KEY_C}\nstruct key_t g_key; unsigned long long g_val;\n`);
    execFileSync("clang", ["-target", "bpf", "-O2", "-g", "-c", join(dir, "k.c"), "-o", join(dir, "k.o")]);
    return Btf.parse(ElfFile.parse(new Uint8Array(readFileSync(join(dir, "k.o")))).section(".BTF")!.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Result {
  fill: number;
  kernelFill: number;
  iterBatch: number;
  iterBest: number;
  iterNoBatch: number;
  kernelBatch: number;
}

function runTsbcc(): Result {
  const btf = keyBtf();
  const key = btfCodec<Key>(btf, btf.findId("struct", "key_t"));
  const u64 = btfCodec<bigint>(btf, btf.findId("int", "unsigned long long"));
  const info = { name: "bench", mapType: MapType.HASH, keySize: 24, valueSize: 8, maxEntries: N, flags: 0 };
  const entries: Array<[Key, bigint]> = [];
  for (let i = 0; i < N; i++) entries.push([{ pid: i, tid: i * 2, comm: `proc${i % 1000}` }, BigInt(i)]);
  // Fill three fresh maps (the first run also compiles the codecs); keep the last one for the walks.
  const fills: number[] = [];
  let fd = bpf.mapCreate(info);
  for (let r = 0; ; r++) {
    const filled = createTable(info, fd, { key, value: u64 }) as HashTable<Key, bigint>;
    fills.push(time(() => filled.itemsUpdateBatch(entries)));
    if (r === 2) break;
    fd.close();
    fd = bpf.mapCreate(info);
  }
  const fill = median(fills);
  // The kernel's share of the fill: the same entries pre-encoded, one BPF_MAP_UPDATE_BATCH on a fresh map.
  const encKeys = new Uint8Array(N * 24);
  const encVals = new Uint8Array(N * 8);
  entries.forEach(([k, v], i) => {
    key.encode(k, encKeys, i * 24);
    u64.encode(v, encVals, i * 8);
  });
  const kernelFill = median(Array.from({ length: 3 }, () => {
    const f = bpf.mapCreate(info);
    try {
      return time(() => bpf.mapUpdateBatch(f.value, encKeys, encVals, N));
    } finally {
      f.close();
    }
  }));
  try {
    const t = createTable(info, fd, { key, value: u64 }) as HashTable<Key, bigint>;

    const walk = (): void => {
      let n = 0;
      let sum = 0n;
      let pids = 0;
      for (const [k, v] of t) {
        n++;
        sum += v;
        pids += k.pid + k.comm.length;
      }
      if (n !== N || sum !== BigInt((N * (N - 1)) / 2) || pids === 0) throw new Error(`walk saw ${n} entries, sum ${sum}`);
    };
    walk(); // warm-up: JIT, codec compilation, batch probe
    const iterRuns = Array.from({ length: RUNS }, () => time(walk));
    const iterBatch = median(iterRuns);
    const iterBest = Math.min(...iterRuns);
    t.useBatch = false;
    const iterNoBatch = median(Array.from({ length: 3 }, () => time(walk)));

    const keys = new Uint8Array(N * 24);
    const vals = new Uint8Array(N * 8);
    const token = new Uint8Array(8);
    const kernelBatch = median(Array.from({ length: RUNS }, () => time(() => {
      let total = 0;
      for (let first = true; ; first = false) {
        const r = bpf.mapLookupBatch(fd.value, first ? null : token, token, keys.subarray(total * 24), vals.subarray(total * 8), N - total);
        total += r.count;
        if (r.done || r.count === 0) break;
      }
      if (total !== N) throw new Error(`batch lookup returned ${total}`);
    })));
    return { fill, kernelFill, iterBatch, iterBest, iterNoBatch, kernelBatch };
  } finally {
    fd.close();
  }
}

const PY = String.raw`
import ctypes as ct, json, statistics, struct, sys, time
N = int(sys.argv[1]); RUNS = int(sys.argv[2])
from bcc import BPF
from bcc.table import HashTable
mode = "BPF(text=...) BPF_HASH"
try:
    b = BPF(text="struct key_t { u32 pid; u32 tid; char comm[16]; }; BPF_HASH(m, struct key_t, u64, %d);" % N)
    t = b["m"]
except Exception as e:
    mode = "bcc.table.HashTable on a ctypes-created map (BPF(text=) failed: %s)" % str(e).splitlines()[0]
    class Key(ct.Structure):
        _fields_ = [("pid", ct.c_uint), ("tid", ct.c_uint), ("comm", ct.c_char * 16)]
    libc = ct.CDLL(None, use_errno=True)
    libc.syscall.restype = ct.c_long
    attr = ct.create_string_buffer(72)
    struct.pack_into("<IIII", attr, 0, 1, 24, 8, N)
    fd = libc.syscall(321, 0, attr, 72)
    if fd < 0:
        raise OSError(ct.get_errno(), "BPF_MAP_CREATE")
    t = HashTable.__new__(HashTable)
    t.bpf = None; t.map_id = 0; t.map_fd = fd; t.Key = Key; t.Leaf = ct.c_ulonglong
    t.ttype = 1; t.flags = 0; t._cbs = {}; t._name = b"m"; t.max_entries = N
t0 = time.perf_counter()
keys = (t.Key * N)(); vals = (t.Leaf * N)()
for i in range(N):
    keys[i].pid = i; keys[i].tid = i * 2; keys[i].comm = b"proc%d" % (i % 1000); vals[i] = i
build = time.perf_counter() - t0
t0 = time.perf_counter(); t.items_update_batch(keys, vals); fill = time.perf_counter() - t0
def timed(fn):
    t0 = time.perf_counter(); fn(); return time.perf_counter() - t0
def walk_items():
    items = t.items()
    assert len(items) == N
def walk_batch():
    n = 0
    for k, v in t.items_lookup_batch():
        n += 1
    assert n == N
def walk_batch_fields():
    s = 0
    for k, v in t.items_lookup_batch():
        s += k.pid + len(k.comm) + v  # batch values come back as ints
items = statistics.median([timed(walk_items) for _ in range(RUNS)])
batch_fields = statistics.median([timed(walk_batch_fields) for _ in range(RUNS)])
batch = statistics.median([timed(walk_batch) for _ in range(RUNS)])
def walk_items_fields():
    s = 0
    for k, v in t.items():
        s += k.pid + len(k.comm) + v.value
items_fields = statistics.median([timed(walk_items_fields) for _ in range(3)])
import bcc
print(json.dumps({"mode": mode, "version": getattr(bcc, "__version__", "?"), "fill": fill, "build": build,
                  "items": items, "lookup_batch_fields": batch_fields,
                  "items_fields": items_fields, "lookup_batch": batch}))
`;

interface BccResult {
  mode: string;
  version: string;
  fill: number;
  build: number;
  items: number;
  lookup_batch_fields: number;
  items_fields: number;
  lookup_batch: number;
}

function runBcc(): BccResult | string {
  const r = spawnSync("/usr/bin/python3", ["-c", PY, String(N), String(RUNS)], { encoding: "utf8", timeout: 600_000 });
  if (r.error) return `could not run /usr/bin/python3: ${r.error.message}`;
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !last.startsWith("{")) return `BCC run failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`;
  return JSON.parse(last) as BccResult;
}

const ms = (s: number): string => `${(s * 1000).toFixed(1)} ms`;
const rate = (s: number): string => `${(N / s / 1e6).toFixed(2)} M/s`;

const ts = runTsbcc();
const bcc = runBcc();
console.log(`maps benchmark: HASH, ${N} entries, key ${KEY_C.replace(/\s+/g, " ")} (24 B), value u64; node ${process.version}`);
console.log(`tsbcc full typed iteration (batch, median of ${RUNS}): ${ms(ts.iterBatch)} = ${rate(ts.iterBatch)}, ` +
  `best ${ms(ts.iterBest)} (kernel BPF_MAP_LOOKUP_BATCH alone: ${ms(ts.kernelBatch)}; target <= 50 ms; load ${loadavg()[0]!.toFixed(2)})`);
const rows: Array<[string, number, number | undefined, string]> = [];
const b = typeof bcc === "string" ? undefined : bcc;
rows.push(["fill: encode + update batch", ts.fill, b && b.build + b.fill, "set ctypes array fields + items_update_batch"]);
rows.push(["  ... the syscall part", ts.kernelFill, b?.fill, "items_update_batch on prebuilt arrays"]);
rows.push(["full typed iteration, batch", ts.iterBatch, b?.lookup_batch_fields, "items_lookup_batch() + k.pid, k.comm, v.value"]);
rows.push(["  ... without reading fields", ts.iterBatch, b?.lookup_batch, "items_lookup_batch() (lazy ctypes views)"]);
rows.push(["full typed iteration, per-key", ts.iterNoBatch, b?.items_fields, "items() + k.pid, k.comm, v.value"]);
rows.push(["  ... without reading fields", ts.iterNoBatch, b?.items, "items()"]);
const pad = (s: string, n: number) => s.padEnd(n);
console.log("tsbcc iteration always decodes every key and value; its numbers repeat where BCC has a lazier variant.");
console.log(`\n${pad("operation", 34)}${pad("tsbcc", 24)}${pad("BCC", 24)}${pad("BCC/tsbcc", 11)}BCC call`);
for (const [name, t, bv, call] of rows) {
  console.log(`${pad(name, 34)}${pad(`${ms(t)} (${rate(t)})`, 24)}${pad(bv === undefined ? "n/a" : `${ms(bv)} (${rate(bv)})`, 24)}` +
    `${pad(bv === undefined ? "n/a" : `${(bv / t).toFixed(2)}x`, 11)}${call}`);
}
console.log(typeof bcc === "string" ? `\nBCC: ${bcc}` : `\nBCC ${bcc.version}: ${bcc.mode}`);
