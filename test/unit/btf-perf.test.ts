// Performance of the hot paths, reported as diagnostics (run: node --test dist/test/unit/btf-perf.test.js).
// Targets: full vmlinux parse < 60 ms; 100k map entries (key {u32 pid; u32 tid; char comm[16]}, u64 value)
// decoded in < 50 ms. Assertions use generous bounds so a loaded machine does not fail the suite; the
// diagnostics carry the real numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { Btf, btfIdentity, codecFor } from "../../src/btf/index.js";
import { BtfBuilder } from "../../src/btf/builder.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

test("perf: vmlinux parse, identity, first lookups", (t) => {
  if (!existsSync(VMLINUX)) return t.skip(`${VMLINUX} missing`);
  const bytes = new Uint8Array(readFileSync(VMLINUX));
  let t0 = performance.now();
  const id = btfIdentity(bytes);
  const identityMs = performance.now() - t0;
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const btf = Btf.parse(bytes);
  const coldMs = performance.now() - t0;
  const coldCpu = cpuMs(c0);
  t0 = performance.now();
  const ts = btf.findByName("struct", "task_struct");
  const lookupMs = performance.now() - t0;
  t0 = performance.now();
  const comm = btf.enumValue("TASK_COMM_LEN");
  const enumMs = performance.now() - t0;
  const warm: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = performance.now();
    Btf.parse(bytes);
    warm.push(performance.now() - s);
  }
  t0 = performance.now();
  Btf.parse(bytes, { validate: true });
  const validateMs = performance.now() - t0;
  t.diagnostic(`identity ${identityMs.toFixed(2)} ms (${id})`);
  t.diagnostic(`vmlinux parse: first ${coldMs.toFixed(1)} ms wall / ${coldCpu.toFixed(1)} ms cpu, warm median ${median(warm).toFixed(1)} ms; with validate ${validateMs.toFixed(1)} ms`);
  t.diagnostic(`first struct lookup ${lookupMs.toFixed(2)} ms, first enumerator lookup ${enumMs.toFixed(2)} ms`);
  assert.ok(ts && comm);
  assert.ok(median(warm) < 300, `warm parse ${median(warm)} ms`);
});

test("perf: decode 100k map entries", (t) => {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4);
  const char = b.int("char", 1, { signed: true });
  const key = b.struct("key_t", 24, [
    { name: "pid", type: u32, bitOffset: 0 }, { name: "tid", type: u32, bitOffset: 32 },
    { name: "comm", type: b.array(char, 16, u32), bitOffset: 64 },
  ]);
  const u64 = b.int("unsigned long long", 8);
  const btf = Btf.parse(b.build());
  const N = 100_000;
  let t0 = performance.now();
  const kc = codecFor<{ pid: number; tid: number; comm: string }>(btf, key);
  const vc = codecFor<bigint>(btf, u64);
  const compileMs = performance.now() - t0;
  // Keys and values as a batch lookup returns them: two flat buffers.
  const keys = new Uint8Array(N * 24), values = new Uint8Array(N * 8);
  const kdv = new DataView(keys.buffer), vdv = new DataView(values.buffer);
  const names = ["bash", "systemd", "node", "kworker/0:1H", "sshd", "a-long-comm-nam"];
  for (let i = 0; i < N; i++) {
    kdv.setUint32(i * 24, i, true);
    kdv.setUint32(i * 24 + 4, i + 1, true);
    keys.set(Buffer.from(names[i % names.length]), i * 24 + 8);
    vdv.setBigUint64(i * 8, BigInt(i) * 3n, true);
  }
  const rounds: { wall: number; cpu: number }[] = [];
  let check = 0;
  for (let r = 0; r < 5; r++) {
    t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const k = kc.decode(keys, i * 24);
      const v = vc.decode(values, i * 8);
      if (i === 12345) check = k.pid + k.comm.length + Number(v);
    }
    rounds.push({ wall: performance.now() - t0, cpu: cpuMs(c0) });
  }
  t0 = performance.now();
  const many = kc.decodeMany(keys, N);
  const manyMs = performance.now() - t0;
  t.diagnostic(`codec compile ${compileMs.toFixed(2)} ms`);
  t.diagnostic(`100k key+value decodes: first ${rounds[0].wall.toFixed(1)} ms wall / ${rounds[0].cpu.toFixed(1)} ms cpu; ` +
    `median ${median(rounds.map((x) => x.wall)).toFixed(1)} ms wall / ${median(rounds.map((x) => x.cpu)).toFixed(1)} ms cpu; ` +
    `decodeMany(keys) ${manyMs.toFixed(1)} ms`);
  assert.equal(check, 12345 + "kworker/0:1H".length + 12345 * 3);
  assert.deepEqual(many[5], { pid: 5, tid: 6, comm: "a-long-comm-nam" });
  assert.ok(median(rounds.map((x) => x.cpu)) < 500);
});
