// Tier 2: stacks recorded by the real kernel, symbolized. A frame-pointer test program (gcc -O0
// -fno-omit-frame-pointer) calls main -> tsbcc_level_a -> tsbcc_level_b -> tsbcc_level_c -> getppid; a
// syscalls:sys_enter_getppid tracepoint records its user stack with get_stackid(BPF_F_USER_STACK) (also with
// BPF_F_REUSE_STACKID | BPF_F_FAST_STACK_CMP), its kernel stack, the same user stack through bpf_get_stack, and a
// BPF_STACK_TRACE_BUILDID stack. Also: ksym/ksymname against /proc/kallsyms.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { BPF } from "../../src/api/bpf.js";
import { Symbolizer, UNKNOWN, stackAddresses, symbolizeAddresses, symbolizeStack, type WalkableStackTable } from "../../src/symbols/index.js";
import { ArgumentError } from "../../src/errors.js";
import { haveClang } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { CHAIN, buildFixtures, fixtureSkip, type Fixtures } from "../helpers/symbol-fixtures.js";

const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang ? "clang is needed" : fixtureSkip ? `${fixtureSkip} is not installed` : false;
let fx: Fixtures;
before(() => { if (!skip) fx = buildFixtures(); });
after(() => { if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

const PROGRAM = (pid: number) => `
BPF_STACK_TRACE(stacks, 1024);
BPF_STACK_TRACE_BUILDID(bstacks, 64);
BPF_HASH(ids, u32, int);
struct frames_t { u64 ip[32]; long len; };
BPF_ARRAY(raw, struct frames_t, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != ${pid}) return 0;
    u32 k = 0;
    int id = stacks.get_stackid(args, BPF_F_USER_STACK);
    ids.update(&k, &id);
    k = 1; id = stacks.get_stackid(args, 0);
    ids.update(&k, &id);
    k = 2; id = stacks.get_stackid(args, BPF_F_USER_STACK | BPF_F_REUSE_STACKID | BPF_F_FAST_STACK_CMP);
    ids.update(&k, &id);
    k = 3; id = bstacks.get_stackid(args, BPF_F_USER_STACK);
    ids.update(&k, &id);
    int zero = 0;
    struct frames_t *f = raw.lookup(&zero);
    if (f) f->len = bpf_get_stack(args, f->ip, sizeof(f->ip), BPF_F_USER_STACK);
    return 0;
}`;

/** The frames of `names` that belong to the test program's chain, in order. */
function chainFrames(names: string[]): string[] {
  return names.filter((n) => CHAIN.includes(n));
}

test("user stacks from get_stackid(BPF_F_USER_STACK) walk and symbolize to the program's own functions", { skip }, async () => {
  const child = pausedChild(fx.chain, ["3"]);
  const b = await BPF.load({ text: PROGRAM(child.pid) });
  try {
    BPF.rememberProcess(child.pid); // as attach does for a pid: the child exits before we symbolize
    assert.equal(await child.go(), 0);
    const ids = b.table("ids");
    const userId = Number(ids.get(0));
    const kernelId = Number(ids.get(1));
    assert.ok(userId >= 0 && kernelId >= 0, `stack ids ${userId} ${kernelId}`);
    // BCC's walk + sym, and the helper that does both.
    const stacks = b.table("stacks");
    const byHand = [...stacks.walk(userId)].map((a) => b.sym(a as bigint, child.pid));
    assert.deepEqual(chainFrames(byHand), CHAIN);
    assert.deepEqual(b.stackSymbols("stacks", userId, { pid: child.pid }), byHand);
    const withModule = b.stackSymbols(stacks, userId, { pid: child.pid, showModule: true, showOffset: true });
    assert.ok(withModule.some((f) => /^tsbcc_level_c\+0x[0-9a-f]+ \[chain\]$/.test(f)), withModule.join(" | "));
    // The same stack again, with REUSE_STACKID | FAST_STACK_CMP: the same id.
    assert.equal(Number(ids.get(2)), userId);
    // The kernel side of the same event: every frame is a kernel function, one of them the syscall entry.
    const kernel = symbolizeStack(stacks, kernelId);
    assert.ok(kernel.length > 0 && kernel.every((f) => f !== UNKNOWN), kernel.join(" | "));
    assert.ok(kernel.some((f) => /syscall/i.test(f)), kernel.join(" | "));
    // bpf_get_stack wrote the same user frames into an array value.
    const raw = b.table("raw").get(0) as { ip: bigint[]; len: bigint };
    assert.ok(raw.len > 0n, `bpf_get_stack returned ${raw.len}`);
    const buf = new Uint8Array(new BigUint64Array(raw.ip).buffer);
    assert.deepEqual(chainFrames(symbolizeAddresses(stackAddresses(buf, Number(raw.len)), { pid: child.pid })), CHAIN);
    assert.deepEqual(symbolizeStack(stacks, -14), []); // a get_stackid error code walks to nothing
    assert.throws(() => b.stackSymbols("ids", userId), ArgumentError); // not a stack table
  } finally {
    b.close();
  }
});

test("BPF_STACK_TRACE_BUILDID user stacks symbolize by build-id through a registered module", { skip }, async () => {
  const child = pausedChild(fx.chain, ["3"]);
  const b = await BPF.load({ text: PROGRAM(child.pid) });
  try {
    assert.equal(await child.go(), 0);
    const id = Number(b.table("ids").get(3));
    assert.ok(id >= 0, `build-id stack id ${id}`);
    const frames = [...b.table("bstacks").walk(id)] as { buildId: Uint8Array; offset: bigint }[];
    assert.ok(frames.length > 0, "the kernel recorded build-id frames (status valid)");
    const s = new Symbolizer({ debugRoot: `${fx.dir}/no-root` });
    assert.equal(chainFrames(symbolizeStack(b.table("bstacks") as unknown as WalkableStackTable, id, { symbolizer: s })).length, 0); // nothing known yet
    s.addModule(fx.chain);
    assert.deepEqual(chainFrames(symbolizeStack(b.table("bstacks") as unknown as WalkableStackTable, id, { symbolizer: s })), CHAIN);
  } finally {
    b.close();
  }
});

test("ksym/ksymname agree with /proc/kallsyms (sampled text symbols, offsets, modules, unknown names)", { skip }, () => {
  const lines = readFileSync("/proc/kallsyms", "latin1").split("\n").filter(Boolean).map((l) => l.split(/\s+/));
  const firstAddress = new Map<string, bigint>();
  const namesAt = new Map<bigint, string[]>();
  for (const [hex, type, name] of lines) {
    const addr = BigInt(`0x${hex}`);
    if (addr === 0n) continue;
    if (!firstAddress.has(name!)) firstAddress.set(name!, addr);
    if (!/^[tTwW]$/.test(type!)) continue;
    const list = namesAt.get(addr) ?? [];
    list.push(name!);
    namesAt.set(addr, list);
  }
  if (namesAt.size === 0) return; // unreachable as root; kptr_restrict zeroes addresses otherwise
  const addrs = [...namesAt.keys()].sort((a, b) => (a < b ? -1 : 1));
  const step = Math.max(1, Math.floor(addrs.length / 500));
  for (let i = 0; i < addrs.length - 1; i += step) {
    const addr = addrs[i]!;
    const name = BPF.ksym(addr);
    assert.equal(name, namesAt.get(addr)!.at(-1), `ksym(0x${addr.toString(16)})`); // the last alias, as BCC
    assert.equal(BPF.ksymname(name), firstAddress.get(name));
    if (addrs[i + 1]! - addr > 1n) assert.equal(BPF.ksym(addr + 1n, { showOffset: true }), `${name}+0x1`);
  }
  const modLine = lines.find((l) => l[3] && /^[tT]$/.test(l[1]!) && l[3] !== "[bpf]");
  if (modLine) assert.match(BPF.ksym(BigInt(`0x${modLine[0]}`), { showModule: true }), new RegExp(`\\${modLine[3]!.replace("]", "\\]")}$`));
  const core = addrs[Math.floor(addrs.length / 3)]!;
  assert.match(BPF.ksym(core, { showModule: true }), / \[kernel\]$/);
  assert.equal(BPF.ksymname("tsbcc_no_such_kernel_symbol"), -1n);
  assert.equal(BPF.ksym(0x1000n), UNKNOWN);
  assert.throws(() => BPF.ksym(-1 as never), ArgumentError);
});
