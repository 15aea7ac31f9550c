// Tier 2: what kernel headers give a BCC program beyond types (issue 14), checked against live kernel values:
// struct sock_common aliases and socket casts on a real loopback TCP connection, TCP_SKB_CB on its segments,
// the math64/jiffies/byte-order inlines and C library builtins on known inputs, expected-attach-type program
// kinds loading without an explicit attach type, every table declaration form, and BCC's refusals
// (GPL-only helper under a non-GPL license) naming the user's line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { gunzipSync } from "node:zlib";
import { readFileSync, existsSync } from "node:fs";
import { compileDialect } from "../../src/dialect/index.js";
import { LoadedObject, parseObject } from "../../src/loader/index.js";
import { BPF } from "../../src/api/bpf.js";
import { haveClang } from "../helpers/build.js";

const skip = !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;
const tracepoint = (cat: string, evt: string): string | false =>
  existsSync(`/sys/kernel/tracing/events/${cat}/${evt}`) ? false : `tracepoint ${cat}:${evt} is not in this kernel`;

/** A loopback TCP connection: the server's accepted socket and the client, after `payload` went client -> server. */
async function loopbackConnection(payload: Buffer): Promise<{ client: Socket; server: Socket; close(): void }> {
  let accepted: (s: Socket) => void;
  const gotServer = new Promise<Socket>((r) => (accepted = r));
  const srv = createServer((s) => accepted(s));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const client = connect((srv.address() as { port: number }).port, "127.0.0.1");
  await new Promise<void>((r, j) => client.once("connect", r).once("error", j));
  const server = await gotServer;
  const received = new Promise<void>((r) => {
    let n = 0;
    server.on("data", (d) => ((n += d.length) >= payload.length ? r() : undefined));
  });
  client.write(new Uint8Array(payload));
  await received;
  return { client, server, close: () => (client.destroy(), server.destroy(), srv.close()) };
}

test("sk_daddr/sk_dport/sk_num/sk_rcv_saddr/sk_family and inet_sk() read a live loopback socket", { skip: skip || tracepoint("sock", "inet_sock_set_state") }, async () => {
  const b = await BPF.load({
    text: `#include <net/sock.h>
#include <net/inet_sock.h>
struct info_t { u32 daddr; u32 saddr; u16 dport; u16 family; u16 sport_be; };
BPF_HASH(seen, u16, struct info_t);
TRACEPOINT_PROBE(sock, inet_sock_set_state) {
    if (args->newstate != TCP_ESTABLISHED) return 0;
    struct sock *sk = (struct sock *)args->skaddr;
    struct info_t info = {};
    u16 num = sk->sk_num;
    info.daddr = sk->sk_daddr;
    info.saddr = sk->sk_rcv_saddr;
    info.dport = ntohs(sk->sk_dport);
    info.family = sk->sk_family;
    info.sport_be = inet_sk(sk)->inet_sport;
    seen.update(&num, &info);
    return 0;
}`,
  });
  const conn = await loopbackConnection(Buffer.alloc(10, 1));
  try {
    const seen = b.table("seen");
    const loopback = 0x0100007f; // 127.0.0.1 in network order, read as a little-endian u32
    const c = seen.get(conn.client.localPort!) as Record<string, number> | undefined;
    assert.ok(c, `client socket (port ${conn.client.localPort}) seen`);
    assert.equal(c.dport, conn.client.remotePort, "client sk_dport = server port");
    assert.equal(c.daddr, loopback);
    assert.equal(c.saddr, loopback);
    assert.equal(c.family, 2, "AF_INET");
    assert.equal(c.sport_be, ((conn.client.localPort! & 0xff) << 8) | (conn.client.localPort! >> 8), "inet_sport is the local port, network order");
    const s = seen.get(conn.server.localPort!) as Record<string, number> | undefined;
    assert.ok(s, "accepted socket seen");
    assert.equal(s.dport, conn.server.remotePort, "accepted socket's sk_dport = client port");
  } finally {
    conn.close();
    b.close();
  }
});

test("TCP_SKB_CB(skb)->seq/end_seq, tcp_sk(sk)->rcv_nxt, ip_hdr/tcp_hdr/skb_shinfo on a received segment", { skip: skip || tracepoint("tcp", "tcp_probe") }, async () => {
  const payload = Buffer.alloc(100, 7);
  let port = 0;
  // The server's port is known only after listening: the program filters on a map entry set before the write.
  const b = await BPF.load({
    text: `#include <net/tcp.h>
#include <linux/tcp.h>
struct seg_t { u32 seq; u32 end_seq; u32 rcv_nxt; u32 data_len; u32 daddr; u16 dest; u8 protocol; u8 nr_frags; };
BPF_ARRAY(port, u32, 1);
BPF_ARRAY(seg, struct seg_t, 1);
TRACEPOINT_PROBE(tcp, tcp_probe) {
    int zero = 0;
    u32 *want = port.lookup(&zero);
    if (!want || args->sport != *want || args->data_len == 0) return 0;
    struct sk_buff *skb = (struct sk_buff *)args->skbaddr;
    struct sock *sk = (struct sock *)args->skaddr;
    struct seg_t s = {};
    s.seq = TCP_SKB_CB(skb)->seq;
    s.end_seq = TCP_SKB_CB(skb)->end_seq;
    s.rcv_nxt = tcp_sk(sk)->rcv_nxt;
    s.data_len = args->data_len;
    s.protocol = ip_hdr(skb)->protocol;
    s.daddr = ip_hdr(skb)->daddr;
    s.dest = ntohs(tcp_hdr(skb)->dest);
    s.nr_frags = skb_shinfo(skb)->nr_frags;
    seg.update(&zero, &s);
    return 0;
}`,
  });
  let accepted: (s: Socket) => void;
  const gotServer = new Promise<Socket>((r) => (accepted = r));
  const srv = createServer((s) => accepted(s));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  port = (srv.address() as { port: number }).port;
  b.table("port").set(0, port);
  const client = connect(port, "127.0.0.1");
  try {
    await new Promise<void>((r, j) => client.once("connect", r).once("error", j));
    const server = await gotServer;
    const got = new Promise<void>((r) => server.once("data", () => r()));
    client.write(new Uint8Array(payload));
    await got;
    const s = b.table("seg").get(0) as Record<string, number>;
    assert.equal(s.data_len, payload.length, "the tracepoint saw our segment");
    assert.equal((s.end_seq - s.seq) >>> 0, payload.length, "end_seq - seq = payload bytes");
    assert.equal(s.seq, s.rcv_nxt, "an in-order segment starts at rcv_nxt");
    assert.equal(s.protocol, 6, "ip_hdr(skb)->protocol is TCP");
    assert.equal(s.daddr, 0x0100007f, "ip_hdr(skb)->daddr is 127.0.0.1");
    assert.equal(s.dest, port, "tcp_hdr(skb)->dest is the server's port");
    assert.ok(s.nr_frags <= 17, `skb_shinfo(skb)->nr_frags = ${s.nr_frags} (MAX_SKB_FRAGS bounds it)`);
    server.destroy();
  } finally {
    client.destroy();
    srv.close();
    b.close();
  }
});

function kernelHz(): number | undefined {
  try {
    return Number(/^CONFIG_HZ=(\d+)$/m.exec(gunzipSync(new Uint8Array(readFileSync("/proc/config.gz"))).toString("utf8"))?.[1]) || undefined;
  } catch {
    return undefined;
  }
}

test("div_u64, div_s64, div64_u64_rem, do_div, mul_u64_u32_shr, byte order, jiffies and memcmp on runtime inputs", { skip }, async () => {
  const hz = kernelHz();
  const b = await BPF.load({
    text: `#include <linux/math64.h>
#include <linux/jiffies.h>
BPF_ARRAY(in, u64, 4);
BPF_ARRAY(out, u64, 16);
static void put(int k, u64 v) { out.update(&k, &v); }
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != ${process.pid}) return 0;
    int i0 = 0, i1 = 1, i2 = 2, i3 = 3;
    u64 *pa = in.lookup(&i0), *pb = in.lookup(&i1), *pc = in.lookup(&i2), *pd = in.lookup(&i3);
    if (!pa || !pb || !pc || !pd) return 0;
    u64 a = *pa, b = *pb, c = *pc, d = *pd;
    put(0, div_u64(a, (u32)b));
    put(1, (u64)div_s64(-(s64)a, (s32)b));
    u64 rem = 0;
    put(2, div64_u64_rem(a, c, &rem));
    put(3, rem);
    u64 n = a;
    put(4, do_div(n, (u32)b));
    put(5, n);
    put(6, mul_u64_u32_shr(a, (u32)b, 40));
    put(7, ntohs((u16)d));
    put(8, htonl((u32)d));
    put(9, be64_to_cpu(d));
#ifdef HZ
    put(10, jiffies_to_msecs(d & 0xffff));
    put(11, msecs_to_jiffies((u32)(d & 0xffff)));
#endif
    char x[8], y[8];
    memset(x, 'a', sizeof(x));
    memcpy(y, x, sizeof(y));
    put(12, memcmp(x, y, sizeof(x)) == 0);
    y[5] = 'b';
    put(13, (u64)(s64)memcmp(x, y, sizeof(x)));
    return 0;
}`,
  });
  try {
    const a = 0x123456789abcdef0n, bb = 1000003n, c = 0x1_0000_0007n, d = 0x0102030405060708n;
    const inT = b.table("in");
    [a, bb, c, d].forEach((v, i) => inT.set(i, v));
    void process.ppid; // getppid(2) in this process
    const out = b.table("out");
    const u = (k: number): bigint => BigInt(out.get(k) as bigint | number);
    const mask = (1n << 64n) - 1n;
    assert.equal(u(0), a / bb, "div_u64");
    assert.equal(u(1), BigInt.asUintN(64, -(a / bb)), "div_s64 truncates toward zero");
    assert.equal(u(2), a / c, "div64_u64_rem quotient");
    assert.equal(u(3), a % c, "div64_u64_rem remainder");
    assert.equal(u(4), a % bb, "do_div evaluates to the remainder");
    assert.equal(u(5), a / bb, "do_div leaves the quotient in its argument");
    assert.equal(u(6), ((a * bb) >> 40n) & mask, "mul_u64_u32_shr keeps the product's high bits");
    assert.equal(u(7), 0x0807n, "ntohs");
    assert.equal(u(8), 0x08070605n, "htonl");
    assert.equal(u(9), 0x0807060504030201n, "be64_to_cpu");
    if (hz) {
      const j = d & 0xffffn;
      assert.equal(u(10), (j * 1000n) / BigInt(hz), `jiffies_to_msecs at HZ=${hz}`);
      assert.equal(u(11), (j * BigInt(hz) + 999n) / 1000n, "msecs_to_jiffies rounds up");
    }
    assert.equal(u(12), 1n, "memset + memcpy + memcmp equal");
    assert.equal(BigInt.asIntN(64, u(13)), -1n, "memcmp orders 'a' before 'b'");
  } finally {
    b.close();
  }
});

function loadEach(object: Uint8Array): Record<string, string> {
  const obj = new LoadedObject(parseObject(object));
  const result: Record<string, string> = {};
  try {
    for (const p of obj.spec.programs) {
      try {
        obj.loadProgram(p.name);
        result[p.name] = "ok";
      } catch (e) {
        result[p.name] = (e as Error).message.split("\n")[0]!;
      }
    }
  } finally {
    obj.close();
  }
  return result;
}

test("sockopt, sock_addr and sk_lookup programs load with the expected attach type their section names", { skip }, async () => {
  const r = await compileDialect({
    fileName: "attach-types.c",
    text: `int _getsockopt(struct bpf_sockopt *ctx) { return 1; }
int _setsockopt(struct bpf_sockopt *ctx) { return ctx->level >= 0; }
int block_connect4(struct bpf_sock_addr *ctx) { return ctx->user_port != 0; }
int lookup(struct bpf_sk_lookup *ctx) { return 1; }
`,
  });
  assert.deepEqual(r.metadata.functions.map((f) => f.section), ["cgroup/getsockopt", "cgroup/setsockopt", "cgroup/connect4", "sk_lookup"]);
  assert.deepEqual(loadEach(r.object), { _getsockopt: "ok", _setsockopt: "ok", block_connect4: "ok", lookup: "ok" });
});

test("BPF_TABLE_PUBLIC, BPF_TABLE_SHARED, BPF_TABLE(\"extern\"), storage and socket maps parse, mean what BCC means, and load", { skip }, async () => {
  const pub = await compileDialect({
    fileName: "public.c",
    text: `BPF_TABLE_PUBLIC("hash", int, u64, table1, 10);
BPF_TABLE_SHARED("array", int, u64, table2, 4);
BPF_QUEUESTACK_PUBLIC("queue", u32, q1, 8, 0);
BPF_SK_STORAGE(sk_store, u64);
BPF_TASK_STORAGE(task_store, u64);
BPF_SOCKHASH(sh, u32, 16);
BPF_SOCKMAP(sm, 4);
BPF_CGROUP_STORAGE(cgs, u64);
int f(struct __sk_buff *skb) { int k = 1; u64 *v = table1.lookup(&k); return v ? (int)*v : 0; }
`,
  });
  assert.deepEqual(pub.metadata.shared, { table1: "public", table2: "shared", q1: "public" });
  const ext = await compileDialect({
    fileName: "extern.c",
    text: `BPF_TABLE("extern", int, u64, table1, 10);
int g(struct __sk_buff *skb) { int k = 1; u64 v = 5; table1.update(&k, &v); return 0; }
`,
  });
  assert.deepEqual(ext.metadata.shared, { table1: "extern" });
  for (const o of [pub, ext]) {
    const obj = new LoadedObject(parseObject(o.object));
    try {
      for (const p of obj.spec.programs) obj.loadProgram(p.name, 3 /* SCHED_CLS */);
    } finally {
      obj.close();
    }
  }
});

test("a GPL-only helper under a non-GPL BPF_LICENSE is refused at the user's line; a GPL-compatible one loads", { skip }, async () => {
  const text = (license: string): string => `#define BPF_LICENSE ${license}
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    bpf_trace_printk("ppid\\n");
    return 0;
}`;
  await assert.rejects(BPF.load({ text: text("Proprietary") }), (e: Error) => {
    assert.match(e.message, /GPL-restricted|non-GPL/);
    assert.match(e.message, /<text>:3\b/, "names the line of the helper call");
    return true;
  });
  const ok = await BPF.load({ text: text("Dual BSD/GPL") });
  ok.close();
});

test("a map of an undefined struct and an unknown table kind are refused at the user's line", { skip }, async () => {
  await assert.rejects(compileDialect({ fileName: "bad.c", text: `\nBPF_HASH(drops, struct key_t);\nstruct key_t { int a; };\nint f(void *ctx) { return 0; }\n` }),
    (e: Error) => /bad\.c:2:\d+: error: .*struct key_t/.test(e.message));
  await assert.rejects(compileDialect({ fileName: "bad.c", text: `int x;\n\nBPF_TABLE("bogus", int, int, t, 4);\n` }),
    (e: Error) => /bad\.c:3:\d+: error: unsupported map type "bogus" for map t/.test(e.message));
});

test("tc program on a crafted packet (BPF_PROG_TEST_RUN): bpf_dext_pkt/bpf_dins_pkt/bpf_store_half and TCP_SKB_CB over __sk_buff cb", { skip }, async () => {
  const r = await compileDialect({
    fileName: "pkt.c",
    text: `#include <net/tcp.h>
int pkt(struct __sk_buff *skb) {
    u64 ver = bpf_dext_pkt(skb, 14, 0, 4);
    u64 ihl = bpf_dext_pkt(skb, 14, 4, 4);
    u64 ttl = bpf_dext_pkt(skb, 22, 0, 8);
    bpf_dins_pkt(skb, 22, 0, 8, ttl - 1);
    bpf_store_half(skb, 18, 0xbeef);
    u32 seq = TCP_SKB_CB(skb)->seq;
    return (ver << 28) | (ihl << 24) | (ttl << 16) | (seq & 0xffff);
}
`,
  });
  const { progTestRun } = await import("../../src/sys/bpf.js");
  const obj = new LoadedObject(parseObject(r.object));
  try {
    const { fd } = obj.loadProgram("pkt", 3 /* SCHED_CLS */);
    const packet = new Uint8Array(64);
    packet.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0); // Ethernet, IPv4
    packet.set([0x45, 0, 0, 40, 0x12, 0x34, 0, 0, 64, 6], 14); // version 4, IHL 5, id 0x1234, TTL 64, TCP
    const ctx = new Uint8Array(192); // struct __sk_buff; cb[0] at offset 48
    new DataView(ctx.buffer).setUint32(48, 0x12345678, true);
    const out = new Uint8Array(128);
    const res = progTestRun({ progFd: fd.value, dataIn: packet, dataOut: out, ctxIn: ctx });
    assert.equal(res.retval >>> 28, 4, "IP version from the high nibble");
    assert.equal((res.retval >>> 24) & 0xf, 5, "IHL from the low nibble");
    assert.equal((res.retval >>> 16) & 0xff, 64, "TTL");
    assert.equal(res.retval & 0xffff, 0x5678, "TCP_SKB_CB(skb)->seq reads cb[0] of the tc control block");
    assert.equal(out[22], 63, "bpf_dins_pkt wrote TTL - 1");
    assert.deepEqual([out[18], out[19]], [0xbe, 0xef], "bpf_store_half wrote network order");
  } finally {
    obj.close();
  }
});

/** Programs in the style of BCC's own dialect tests (bcc-spec 4.2) that exercise this classes; written here. */
const BCC_STYLE: Record<string, string> = {
  "explicit read of TCP_SKB_CB through a user macro, next to an implicit read": `#include <net/tcp.h>
#define RD(P) ({ __typeof__(P) __v = 0; bpf_probe_read_kernel(&__v, sizeof(__v), &P); __v; })
int gso(struct pt_regs *ctx, struct sk_buff *skb) {
    return RD(TCP_SKB_CB(skb)->tcp_gso_size) + skb->protocol;
}`,
  "explicit read of &(TCP_SKB_CB(skb)->seq) is not read twice": `#include <net/tcp.h>
int seq(struct pt_regs *ctx, struct sk_buff *skb) {
    u32 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), &(TCP_SKB_CB(skb)->seq));
    return v;
}`,
  "a program's own struct sock with a pointer member named like a kernel alias": `#include <uapi/linux/ptrace.h>
struct sock { u32 *sk_daddr; };
int own(struct pt_regs *ctx, struct sock *skp) { return *(skp->sk_daddr); }`,
  "alias through a parenthesised cast and a socket cast macro": `#include <net/inet_sock.h>
int paren(struct pt_regs *ctx, struct sock *sk) {
    return ((struct inet_sock *)sk)->inet_sport + inet_sk(sk)->inet_dport + sk->sk_family;
}`,
  "min_t and div_u64 in a switch on a request's operation": `#include <linux/blk-mq.h>
BPF_HASH(out, u32, u64);
int op(struct pt_regs *ctx, struct request *req) {
    u32 k = 0; u64 v = 0;
    switch (req->cmd_flags & REQ_OP_MASK) {
    case REQ_OP_READ: v = div_u64(req->__data_len, 512); break;
    case REQ_OP_WRITE: v = min_t(u64, req->__data_len, 4096); break;
    default: v = 1;
    }
    out.update(&k, &v);
    return 0;
}`,
  "jiffies and byte order in a socket program": `#include <linux/jiffies.h>
#include <net/sock.h>
int sock(struct pt_regs *ctx, struct sock *sk) {
    return jiffies_to_msecs(HZ) + be16_to_cpu(sk->sk_dport) + ntohl(sk->sk_daddr);
}`,
};

for (const [name, text] of Object.entries(BCC_STYLE)) {
  test(`BCC-style program compiles and loads: ${name}`, { skip }, async () => {
    const r = await compileDialect({ text, fileName: "bcc-style.c", cflags: ["-fno-jump-tables"] });
    assert.deepEqual(r.warnings.filter((w) => /not rewritten/.test(w.message)).map((w) => `${w.line}: ${w.message}`), []);
    const obj = new LoadedObject(parseObject(r.object));
    try {
      for (const p of obj.spec.programs) obj.loadProgram(p.name, 2 /* KPROBE */);
    } finally {
      obj.close();
    }
  });
}
