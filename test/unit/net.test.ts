// Tier 1 (no kernel): the pure parts of networking — rtnetlink message encoding and attribute parsing, XDP flag
// checks, verdict names, packet-field layouts of bcc/proto.h and the generated C of the socket/storage map methods.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NlMessage, parseAttrs, attrU32, attrStr } from "../../src/sys/netlink.js";
import { Rtnl, ProgType } from "../../src/sys/abi.js";
import { xdpFlags } from "../../src/net/xdp.js";
import { verdictName } from "../../src/net/test-run.js";
import { cgroupHook } from "../../src/net/cgroup.js";
import { sockmapHook } from "../../src/net/sockmap.js";
import { packetLayouts } from "../../src/dialect/rewrite-packet.js";
import { methodCode, type MapInfo, type MethodCall } from "../../src/dialect/rewrite-maps.js";
import type { AstNode } from "../../src/dialect/ast.js";

test("NlMessage: header, 4-byte aligned attributes, nested attributes with their flag", () => {
  const m = new NlMessage(Rtnl.RTM_SETLINK, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK)
    .bytes(new Uint8Array(16))
    .str(Rtnl.IFLA_IFNAME, "eth0")
    .nest(Rtnl.IFLA_XDP, (n) => n.s32(Rtnl.IFLA_XDP_FD, -1).u32(Rtnl.IFLA_XDP_FLAGS, 2));
  const out = m.encode(7);
  const v = new DataView(out.buffer);
  assert.equal(v.getUint32(0, true), out.byteLength);
  assert.equal(out.byteLength, 16 + 16 + 12 + 4 + 8 + 8);
  assert.equal(v.getUint16(4, true), Rtnl.RTM_SETLINK);
  assert.equal(v.getUint16(6, true), 5);
  assert.equal(v.getUint32(8, true), 7);
  const top = parseAttrs(out, 32, out.byteLength);
  assert.equal(attrStr(top.get(Rtnl.IFLA_IFNAME)), "eth0");
  assert.equal(v.getUint16(32 + 12 + 2, true), Rtnl.IFLA_XDP | Rtnl.NLA_F_NESTED);
  const xdp = top.get(Rtnl.IFLA_XDP)!;
  const inner = parseAttrs(xdp, 0, xdp.byteLength);
  assert.equal(attrU32(inner.get(Rtnl.IFLA_XDP_FD)), 0xffffffff);
  assert.equal(attrU32(inner.get(Rtnl.IFLA_XDP_FLAGS)), 2);
});

test("parseAttrs stops at a truncated or malformed attribute", () => {
  const b = new Uint8Array([8, 0, 1, 0, 1, 0, 0, 0, 40, 0, 2, 0, 0, 0]);
  const attrs = parseAttrs(b, 0, b.byteLength);
  assert.deepEqual([...attrs.keys()], [1]);
  assert.equal(attrU32(attrs.get(1)), 1);
  assert.equal(parseAttrs(new Uint8Array([2, 0, 1, 0]), 0, 4).size, 0);
});

test("xdpFlags: modes by name, one mode at most, unknown bits refused", () => {
  assert.equal(xdpFlags({ mode: "generic" }), 2);
  assert.equal(xdpFlags({ mode: "driver", flags: 1 }), 5);
  assert.throws(() => xdpFlags({ flags: 2 | 4 }), { code: "BAD_ARGUMENT", argument: "flags" });
  assert.throws(() => xdpFlags({ flags: 0x100 }), { code: "BAD_ARGUMENT", argument: "flags" });
  assert.throws(() => xdpFlags({ mode: "fast" as "generic" }), { code: "BAD_ARGUMENT", argument: "mode" });
});

test("verdict names per program type", () => {
  assert.equal(verdictName(ProgType.XDP, 1), "DROP");
  assert.equal(verdictName(ProgType.XDP, 4), "REDIRECT");
  assert.equal(verdictName(ProgType.SCHED_CLS, 0xffffffff), "UNSPEC");
  assert.equal(verdictName(ProgType.SCHED_CLS, 2), "SHOT");
  assert.equal(verdictName(ProgType.SOCKET_FILTER, 0), "DROP");
  assert.equal(verdictName(ProgType.SOCKET_FILTER, 0xffffffff), "KEEP ALL");
  assert.equal(verdictName(ProgType.SOCKET_FILTER, 42), "KEEP 42");
  assert.equal(verdictName(ProgType.CGROUP_SKB, 1), "ALLOW");
  assert.equal(verdictName(ProgType.KPROBE, 0), undefined);
});

test("cgroup and sockmap hooks by name; unknown names are argument errors", () => {
  assert.deepEqual(cgroupHook("egress"), { progType: ProgType.CGROUP_SKB, attachType: 1 });
  assert.deepEqual(cgroupHook("connect4"), { progType: ProgType.CGROUP_SOCK_ADDR, attachType: 10 });
  assert.throws(() => cgroupHook("nope"), { code: "BAD_ARGUMENT", argument: "hook" });
  assert.deepEqual(sockmapHook("msg_verdict"), { progType: ProgType.SK_MSG, attachType: 7 });
  assert.throws(() => sockmapHook("x"), { code: "BAD_ARGUMENT", argument: "hook" });
});

test("bcc/proto.h layouts: wire bit offsets and widths", () => {
  const l = packetLayouts({ id: "tu", kind: "TranslationUnitDecl", inner: [] });
  const f = (s: string, n: string): [number, number] => {
    const x = l.get(s)?.get(n);
    assert.ok(x, `${s}.${n}`);
    return [x.bitOffset, x.bitSize];
  };
  assert.deepEqual(f("ethernet_t", "dst"), [0, 48]);
  assert.deepEqual(f("ethernet_t", "type"), [96, 16]);
  assert.deepEqual(f("ip_t", "ver"), [0, 4]);
  assert.deepEqual(f("ip_t", "hlen"), [4, 4]);
  assert.deepEqual(f("ip_t", "foffset"), [51, 13]);
  assert.deepEqual(f("ip_t", "nextp"), [72, 8]);
  assert.deepEqual(f("ip_t", "src"), [96, 32]);
  assert.deepEqual(f("ip_t", "dst"), [128, 32]);
  assert.deepEqual(f("udp_t", "dport"), [16, 16]);
  assert.deepEqual(f("tcp_t", "flag_syn"), [110, 1]);
  assert.deepEqual(f("ip6_t", "flow_label"), [12, 20]);
  assert.deepEqual(f("ip6_opt_t", "pad"), [16, 48]);
});

test("socket and storage map methods: helper, argument order, value cast", () => {
  const text = (kind: string, method: string, n: number): string => {
    const node = { id: "x", kind: "IntegerLiteral" } as AstNode;
    const m: MethodCall = { map: { name: "m", kind } as MapInfo, method, call: node, args: Array.from({ length: n }, () => node) };
    const pieces = methodCode(m, (i) => ({ sub: true, begin: i, end: i }) as never);
    return pieces.map((p) => (typeof p === "string" ? p : `A${(p as { begin: number }).begin}`)).join("");
  };
  assert.equal(text("sockhash", "msg_redirect_hash", 3), "bpf_msg_redirect_hash((A0), (void *)&m, (A1), (A2))");
  assert.equal(text("sockmap", "sock_map_update", 3), "bpf_sock_map_update((A0), (void *)&m, (A1), (A2))");
  assert.equal(text("sk_storage", "sk_storage_get", 3), "((__tsbcc_leaf_m *)bpf_sk_storage_get((void *)&m, (A0), (A1), (A2)))");
  assert.equal(text("task_storage", "task_storage_delete", 1), "bpf_task_storage_delete((void *)&m, (A0))");
  assert.equal(text("cgroup_storage", "get_local_storage", 1), "((__tsbcc_leaf_m *)bpf_get_local_storage((void *)&m, (A0)))");
  assert.throws(() => text("hash", "no_such_method", 1), /unknown map method no_such_method on map m/);
  assert.throws(() => text("hash", "sk_redirect_map", 3), /only available on sockmap maps \(m is hash\)/);
  assert.throws(() => text("sockmap", "sk_redirect_map", 2), /needs 3 arguments/);
});
