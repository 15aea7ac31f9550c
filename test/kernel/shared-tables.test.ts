// Tier 2: BPF_TABLE_PUBLIC / BPF_TABLE_SHARED and BPF_TABLE("extern", ...) between two BPF modules of one process
// (src/loader/shared-tables.ts): module B's extern declaration uses module A's map, in the kernel and from user
// space, the map outlives its lender while a borrower is open, and the registry forgets it once both closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/api/bpf.js";
import { lentTables } from "../../src/loader/shared-tables.js";
import { liveFds } from "../../src/sys/index.js";
import { syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "gcc", "root");

/** A module whose getppid tracepoint adds 1 to slot `slot` of `decl`'s table `calls`, for `pid` only. */
const counter = (decl: string, slot: number, pid: number): string => `
${decl}
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((u32)(bpf_get_current_pid_tgid() >> 32) != ${pid}) return 0;
    u32 slot = ${slot};
    calls.increment(slot);
    return 0;
}`;

test("BPF_TABLE_PUBLIC in module A, BPF_TABLE(\"extern\") in module B: one map, both count the child's 1000 getppid calls", { skip }, async () => {
  const fds = liveFds().size;
  const child = pausedChild(syscallLoop("getppid"), ["1000"]);
  const a = await BPF.load({ text: counter(`BPF_TABLE_PUBLIC("hash", u32, u64, calls, 16);`, 0, child.pid) });
  let b: BPF | undefined;
  try {
    assert.deepEqual(a.metadata.shared, { calls: "public" });
    assert.deepEqual(lentTables(), ["calls"]);
    b = await BPF.load({ text: counter(`BPF_TABLE("extern", u32, u64, calls, 16);`, 1, child.pid) });
    assert.deepEqual(b.metadata.shared, { calls: "extern" });
    assert.equal(await child.go(), 0);
    for (const m of [a, b]) {
      assert.equal(m.table("calls").get(0), 1000n, "module A's kernel increments, read through either module");
      assert.equal(m.table("calls").get(1), 1000n, "module B's kernel increments through its extern table");
    }
    b.table("calls").set(7, 42n);
    assert.equal(a.table("calls").get(7), 42n, "a write through B's table is A's map");
    a.close();
    assert.equal(b.table("calls").get(0), 1000n, "the map lives on while B is open");
    assert.deepEqual(lentTables(), ["calls"]);
  } finally {
    a.close();
    b?.close();
  }
  assert.deepEqual(lentTables(), []);
  assert.equal(liveFds().size, fds);
});

test("BPF_TABLE_SHARED is found by extern only in the same maps namespace; an array lent to an extern keeps its type", { skip }, async () => {
  const fds = liveFds().size;
  const a = await BPF.load({ text: `BPF_TABLE_SHARED("array", u32, u64, slots, 4);\nint f(void *ctx) { return 0; }`, mapsNamespace: "net" });
  try {
    assert.deepEqual(lentTables(), ["ns/net/slots"]);
    const ext = `BPF_TABLE("extern", u32, u64, slots, 4);\nint g(void *ctx) { return 0; }`;
    await assert.rejects(BPF.load({ text: ext, mapsNamespace: "other" }), { code: "NO_SUCH_TABLE", message: /reference to undefined table/ });
    await assert.rejects(BPF.load({ text: ext }), { code: "NO_SUCH_TABLE" });
    const b = await BPF.load({ text: ext, mapsNamespace: "net" });
    try {
      a.table("slots").set(2, 99n);
      assert.equal(b.table("slots").get(2), 99n);
      assert.equal(b.table("slots").maxEntries, 4);
      assert.match(b.decodeTable("slots"), /type ARRAY/, "the extern table is the lent ARRAY, not its placeholder hash");
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
  assert.deepEqual(lentTables(), []);
  assert.equal(liveFds().size, fds);
});

test("shared tables: undefined extern, a size mismatch, a second public of one name and a bad namespace are clear errors; nothing leaks", { skip }, async () => {
  const fds = liveFds().size;
  await assert.rejects(BPF.load({ text: `BPF_TABLE("extern", u32, u64, nowhere, 8);\nint g(void *ctx) { return 0; }` }),
    { code: "NO_SUCH_TABLE", message: /extern table "nowhere": reference to undefined table/ });
  await assert.rejects(BPF.load({ text: `int g(void *ctx) { return 0; }`, mapsNamespace: 5 as unknown as string }),
    { code: "BAD_ARGUMENT", argument: "mapsNamespace" });
  const a = await BPF.load({ text: `BPF_TABLE_PUBLIC("hash", u32, u64, pub, 8);\nint f(void *ctx) { return 0; }` });
  try {
    await assert.rejects(BPF.load({ text: `BPF_TABLE("extern", u32, u32, pub, 8);\nint g(void *ctx) { return 0; }` }),
      { code: "MAP_CREATE", message: /declared with key 4 B \/ value 4 B, but the public table is a HASH with key 4 B \/ value 8 B/ });
    await assert.rejects(BPF.load({ text: `BPF_TABLE_PUBLIC("hash", u32, u64, pub, 8);\nint h(void *ctx) { return 0; }` }),
      { code: "MAP_CREATE", message: /already declares it/ });
    assert.deepEqual(lentTables(), ["pub"], "the failed loads released what they took");
  } finally {
    a.close();
  }
  assert.deepEqual(lentTables(), []);
  assert.equal(liveFds().size, fds);
});
