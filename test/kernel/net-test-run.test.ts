// Tier 2, networking without a network: BPF_PROG_TEST_RUN verdicts on crafted packets, tail-call chains and
// map-in-map lookups counted through repeated test runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF } from "../../src/api/bpf.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang } from "../helpers/build.js";
import { SOCKET_ICMP_ECHO, TAIL_CALLS_AND_MAP_IN_MAP, TC_ICMP_COUNT, XDP_ICMP_DROP, XDP_REDIRECT_MAPS, PROTO_PARSE } from "./net/programs.js";

const skip = !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;

/** An Ethernet + IPv4 frame with `protocol` and, for ICMP, an echo of `icmpType`; 64 bytes. */
export function frame(protocol: number, icmpType = 8): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 50, 0, 1, 0, 0, 64, protocol, 0, 0, 10, 200, 0, 1, 10, 200, 0, 2], 14);
  p[34] = icmpType;
  return p;
}

test("testRun: XDP drops an ICMP frame, passes UDP, and returns the packet and a duration", { skip }, async () => {
  const fds = liveFds().size;
  const b = await BPF.load({ text: XDP_ICMP_DROP });
  try {
    b.loadFunc("xdp_icmp_drop", BPF.XDP);
    const icmp = b.testRun("xdp_icmp_drop", { data: frame(1) });
    assert.equal(icmp.retval, 1);
    assert.equal(icmp.verdict, "DROP");
    const udp = b.testRun("xdp_icmp_drop", { data: frame(17), repeat: 1000 });
    assert.equal(udp.verdict, "PASS");
    assert.deepEqual(udp.data, frame(17), "the packet comes back unchanged");
    assert.ok(udp.duration >= 0);
    assert.equal(b.table("dropped").get(0), 1n, "one ICMP run, 1000 UDP runs");
    const many = b.testRun("xdp_icmp_drop", { data: frame(1), repeat: 250 });
    assert.equal(many.verdict, "DROP");
    assert.equal(b.table("dropped").get(0), 251n);
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, fds);
});

test("testRun: tc and socket filter verdicts", { skip }, async () => {
  const tc = await BPF.load({ text: TC_ICMP_COUNT });
  const sf = await BPF.load({ text: SOCKET_ICMP_ECHO });
  try {
    const r = tc.testRun("tc_icmp_count", { data: frame(1), progType: BPF.SCHED_CLS, repeat: 10 });
    assert.equal(r.verdict, "OK");
    assert.equal(tc.table("seen").get(0), 10n);
    // Socket filters and cgroup_skb programs run from the network header in a test run: the kernel parses
    // and strips the Ethernet header first, so skb->len is the frame minus 14 bytes.
    sf.loadFunc("small_only", BPF.SOCKET_FILTER);
    const small = sf.testRun("small_only", { data: frame(17) });
    assert.equal(small.retval, 50);
    assert.equal(small.verdict, "KEEP 50");
    const big = new Uint8Array(300);
    big.set(frame(17));
    assert.equal(sf.testRun("small_only", { data: big }).verdict, "DROP");
    assert.equal(sf.table("udp_seen").get(0), 2n);
  } finally {
    tc.close();
    sf.close();
  }
});

test("tail-call chain: each stage runs exactly as often as the test run repeats", { skip }, async () => {
  const b = await BPF.load({ text: TAIL_CALLS_AND_MAP_IN_MAP });
  try {
    const jump = b.table("jump");
    jump.set(1, b.loadFunc("stage1", BPF.XDP));
    jump.set(2, b.loadFunc("stage2", BPF.XDP));
    b.loadFunc("stage0", BPF.XDP);
    assert.equal(b.testRun("stage0", { data: frame(17), repeat: 100 }).verdict, "PASS");
    assert.deepEqual([0, 1, 2, 3].map((i) => b.table("hits").get(i)), [100n, 100n, 100n, 0n]);
    jump.delete(2);
    assert.equal(b.testRun("stage0", { data: frame(17), repeat: 5 }).verdict, "ABORTED", "a missing slot falls through");
    assert.deepEqual([0, 1, 2].map((i) => b.table("hits").get(i)), [105n, 105n, 100n]);
  } finally {
    b.close();
  }
});

test("map-in-map: the program follows whichever inner map the outer slot holds", { skip }, async () => {
  const b = await BPF.load({ text: TAIL_CALLS_AND_MAP_IN_MAP });
  try {
    b.loadFunc("via_outer", BPF.XDP);
    assert.equal(b.testRun("via_outer", { data: frame(17) }).verdict, "ABORTED", "empty outer slot");
    const outer = b.table("outer");
    outer.set(0, b.table("inner_a").fd.value);
    assert.equal(b.testRun("via_outer", { data: frame(17), repeat: 7 }).verdict, "PASS");
    outer.set(0, b.table("inner_b").fd.value);
    b.testRun("via_outer", { data: frame(17), repeat: 3 });
    assert.equal(b.table("inner_a").get(0), 7n);
    assert.equal(b.table("inner_b").get(0), 3n);
  } finally {
    b.close();
  }
});

test("testRun bad input: not loaded, bad data, bad repeat, runt packet", { skip }, async () => {
  const fds = liveFds().size;
  const b = await BPF.load({ text: XDP_ICMP_DROP });
  try {
    assert.throws(() => b.testRun("xdp_icmp_drop", { data: frame(1) }), { code: "BAD_ARGUMENT", argument: "fn", message: /not loaded/ });
    b.loadFunc("xdp_icmp_drop", BPF.XDP);
    assert.throws(() => b.testRun("nope", { progType: BPF.XDP }), { code: "BAD_ARGUMENT", argument: "fn" });
    assert.throws(() => b.testRun("xdp_icmp_drop", { data: [1, 2, 3] as unknown as Uint8Array }), { code: "BAD_ARGUMENT", argument: "data" });
    assert.throws(() => b.testRun("xdp_icmp_drop", { data: frame(1), repeat: 0 }), { code: "BAD_ARGUMENT", argument: "repeat" });
    assert.throws(() => b.testRun("xdp_icmp_drop", { data: new Uint8Array(4) }), { code: "ATTACH", message: /refused the input/ });
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, fds);
});

test("redirect_map through DEVMAP and CPUMAP: REDIRECT once the slot is filled, the fallback action before", { skip }, async () => {
  const b = await BPF.load({ text: XDP_REDIRECT_MAPS });
  try {
    for (const f of ["to_dev", "to_cpu", "to_xsk"]) b.loadFunc(f, BPF.XDP);
    assert.equal(b.testRun("to_dev", { data: frame(17) }).verdict, "PASS");
    assert.equal(b.testRun("to_cpu", { data: frame(17) }).verdict, "PASS");
    assert.equal(b.testRun("to_xsk", { data: frame(17) }).verdict, "DROP", "no AF_XDP socket in the slot");
    b.table("tx_port").set(0, 1); // ifindex 1: lo, always there.
    b.table("cpus").set(0, 64); // queue size for CPU 0's kthread.
    assert.equal(b.table("tx_port").get(0), 1);
    assert.equal(b.testRun("to_dev", { data: frame(17) }).verdict, "REDIRECT");
    assert.equal(b.testRun("to_cpu", { data: frame(17) }).verdict, "REDIRECT");
  } finally {
    b.close();
  }
});

/** RFC 1071 checksum of an IPv4 header. */
function ipChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

test("bcc/proto.h: cursor_advance, field reads (bit-fields, 48-bit MACs), writes and bpf_l3_csum_replace", { skip }, async () => {
  const b = await BPF.load({ text: PROTO_PARSE });
  try {
    const icmp = frame(1);
    const sum = ipChecksum(icmp.subarray(14, 34));
    icmp[24] = sum >> 8;
    icmp[25] = sum & 0xff;
    const r = b.testRun("proto_count", { data: icmp, progType: BPF.SCHED_CLS });
    assert.equal(r.verdict, "OK");
    assert.equal(r.data[22], 63, "TTL decremented");
    assert.equal(ipChecksum(r.data.subarray(14, 34)), 0, "header checksum still valid");
    const udp = frame(17);
    udp.set([0x30, 0x39, 0, 53], 34);
    const u = b.testRun("proto_count", { data: udp, progType: BPF.SCHED_CLS });
    assert.equal((u.data[36]! << 8) | u.data[37]!, 5353, "udp->dport = 5353 written in network order");
    assert.equal(u.data[15], 0x2e, "ip->tos written");
    assert.equal(u.data[14], 0x45, "the neighbouring bit-fields kept");
    // 0: IPv4, 1: ICMP, 2: source 10.200.0.1, 3: TTL 64, 4: source MAC, 5: UDP to port 53.
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => b.table("counts").get(i)), [2n, 1n, 2n, 2n, 2n, 1n]);
  } finally {
    b.close();
  }
  await assert.rejects(BPF.load({ text: `#include <bcc/proto.h>\nint f(struct __sk_buff *skb) { u8 *c = 0; struct ip_t *ip = cursor_advance(c, sizeof(*ip)); ip->ttl += 1; return 0; }` }),
    /packet field ttl: only plain assignment \(=\) is supported/);
});
