// Tier 1: issue 14's dialect pieces that need no kernel: sections chosen by context type, BCC helper-header
// names (incr_cksum_l3/l4, CUR_CPU_IDENTIFIER, memset/memcmp), every table declaration form and its
// metadata, local-storage and socket-map methods, and the parsing behind "a user's own struct that shares
// a kernel name".
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileError, compileMini, skipReason } from "../fixtures/dialect/harness.js";
import { sectionFor } from "../../src/dialect/index.js";
import { renameUserTag, structMemberNames, blankCommentsAndStrings } from "../../src/dialect/prescan.js";
import { classifySection } from "../../src/loader/sections.js";
import { AttachType, ProgType } from "../../src/sys/abi.js";

test("context types that need an expected attach type choose the section; the loader maps it back", () => {
  const cases: [string, string, string, number, number][] = [
    ["_getsockopt", "struct bpf_sockopt *", "cgroup/getsockopt", ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT],
    ["sockopt", "struct bpf_sockopt *", "cgroup/setsockopt", ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT],
    ["block_connect6", "struct bpf_sock_addr *", "cgroup/connect6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT],
    ["on_sendmsg4", "struct bpf_sock_addr *", "cgroup/sendmsg4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG],
    ["lookup", "struct bpf_sk_lookup *", "sk_lookup", ProgType.SK_LOOKUP, AttachType.SK_LOOKUP],
  ];
  for (const [name, ctx, section, type, attach] of cases) {
    assert.equal(sectionFor(name, ctx), section, name);
    const k = classifySection(section);
    assert.equal(k.progType, type, section);
    assert.equal(k.expectedAttachType, attach, section);
  }
  // Ambiguous sock_addr names stay in prog/ (the attach type must then be given at load); BCC prefixes win.
  assert.equal(sectionFor("my_hook", "struct bpf_sock_addr *"), "prog/my_hook");
  assert.equal(sectionFor("kprobe__tcp_connect", "struct bpf_sockopt *"), "kprobe/tcp_connect");
  assert.equal(sectionFor("filter", "struct __sk_buff *"), "prog/filter");
});

test("struct member names of a body; a user tag renamed in code but not in comments or strings", () => {
  assert.deepEqual(structMemberNames(" u32 *sk_daddr; int a, b[4]; unsigned x : 3; int (*fn)(int); struct { int in; } anon_named; "),
    ["sk_daddr", "a", "b", "x", "fn", "anon_named"]);
  const text = `struct sock { int a; };\n/* struct sock */ int f(struct sock *s) { return sizeof(struct  sock) + "struct sock"[0]; }\n`;
  const out = renameUserTag(text, blankCommentsAndStrings(text), "sock", "Sock");
  assert.equal(out.length, text.length, "same length: offsets stay valid");
  assert.equal(out, `struct Sock { int a; };\n/* struct sock */ int f(struct Sock *s) { return sizeof(struct  Sock) + "struct sock"[0]; }\n`);
});

test("incr_cksum_l3/l4 become checksum helper calls on the function's context, with the new value's size", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`int fix(struct __sk_buff *skb) {
  u32 old = 1, new_ip = 2; u16 oldp = 3, newp = 4;
  incr_cksum_l3(24, old, new_ip);
  incr_cksum_l4(40, oldp, newp, 1);
  return CUR_CPU_IDENTIFIER == BPF_F_CURRENT_CPU;
}
`);
  assert.match(r.rewritten, /bpf_l3_csum_replace\(skb, \(__u64\)\(24\), \(old\), \(new_ip\), sizeof\(new_ip\)\)/);
  assert.match(r.rewritten, /bpf_l4_csum_replace\(skb, \(__u64\)\(40\), \(oldp\), \(newp\), \(\(\(1\) & 0x1\) << 4\) \| sizeof\(newp\)\)/);
  const e = await compileError(`int fix(struct __sk_buff *skb) {\n  incr_cksum_l3(24, 1);\n  return 0;\n}\n`);
  assert.equal(e.diagnostics[0]!.line, 2);
  assert.match(e.diagnostics[0]!.message, /incr_cksum_l3 takes 3 arguments, got 2/);
});

test("memset, memcpy and memcmp compile unqualified (no implicit declaration error)", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`int f(struct __sk_buff *skb) {
  char a[16], b[16];
  memset(a, 0, sizeof(a));
  memcpy(b, a, sizeof(b));
  return memcmp(a, b, sizeof(a)) == 0 && __builtin_memcmp(a, b, 4) == 0;
}
`);
  assert.equal(r.warnings.filter((w) => /implicit/.test(w.message)).length, 0);
  assert.ok(r.object.length > 0);
});

test("every table form parses: PUBLIC/SHARED/extern metadata, storage and socket-map methods, queue/stack kinds", async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  const r = await compileMini(`BPF_TABLE_PUBLIC("hash", int, u64, pub, 8);
BPF_TABLE_SHARED("array", int, u64, shr, 4, 0);
BPF_TABLE("extern", int, u64, ext, 8);
BPF_QUEUESTACK_SHARED("stack", u32, stk, 8, 0);
BPF_SK_STORAGE(sks, u64);
BPF_INODE_STORAGE(ins, u64);
BPF_TASK_STORAGE(tks, u64);
BPF_SOCKHASH(sh, u32, 16);
BPF_SOCKMAP(sm, 4);
BPF_XSKMAP(xsk, 4, "/sys/fs/bpf/xsk");
int f(struct __sk_buff *skb) {
  int k = 0; u32 key = 1; u64 v = 1;
  pub.update(&k, &v); ext.lookup(&k); stk.push(&key, 0);
  u64 *s = sks.sk_storage_get((void *)skb, 0, 1); sks.sk_storage_delete((void *)skb);
  tks.task_storage_get((void *)0, 0, 0); ins.inode_storage_delete((void *)0);
  sh.sock_hash_update(skb, &key, 0); sh.sk_redirect_hash(skb, &key, 0); sm.sock_map_update(skb, &key, 0);
  return s != 0;
}
`);
  assert.deepEqual(r.metadata.shared, { pub: "public", shr: "shared", ext: "extern", stk: "shared" });
  assert.deepEqual(r.metadata.pinned, { xsk: "/sys/fs/bpf/xsk" });
  for (const call of [/bpf_sk_storage_get\(\(void \*\)&sks, \(\(void \*\)skb\), \(0\), \(1\)\)/, /bpf_sk_storage_delete\(\(void \*\)&sks, \(\(void \*\)skb\)\)/,
    /bpf_task_storage_get\(\(void \*\)&tks, /, /bpf_inode_storage_delete\(\(void \*\)&ins, /,
    /bpf_sock_hash_update\(\(skb\), \(void \*\)&sh, \(&key\), \(0\)\)/, /bpf_sk_redirect_hash\(\(skb\), \(void \*\)&sh, /,
    /bpf_sock_map_update\(\(skb\), \(void \*\)&sm, /]) {
    assert.match(r.rewritten, call);
  }
});
