// Tier 2, networking: socket filters (a raw packet socket on a veth device, and SO_ATTACH_BPF on a socket the
// test owns) and a cgroup_skb egress program on a cgroup v2 directory the test creates. Traffic stays inside
// the test's namespaces.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmdirSync, existsSync } from "node:fs";
import { BPF } from "../../src/api/bpf.js";
import { liveFds } from "../../src/sys/index.js";
import { Sock } from "../../src/sys/abi.js";
import { bindSocket, recvFrom, sendTo, socketOpen, closeFd } from "../../src/sys/native.js";
import { haveClang } from "../helpers/build.js";
import { createVethPair, havePing, netnsUnavailable, ping, type VethPair } from "../helpers/netns.js";
import { CGROUP_HOOKS_DENY, CGROUP_SKB_NO_ICMP, SOCKET_ICMP_ECHO } from "./net/programs.js";

const skip = !haveClang ? "clang is needed" : netnsUnavailable() ?? (!havePing() ? "ping (iputils-ping) is not installed" : false);
const CGROUP2 = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((p) => existsSync(`${p}/cgroup.procs`) && existsSync(`${p}/cgroup.controllers`));
let pair: VethPair;

before(() => {
  if (!skip) pair = createVethPair();
});
after(() => pair?.destroy());

test("raw socket filter sees exactly the ping requests and replies on the device", { skip }, async () => {
  const fds = liveFds().size;
  const b = await BPF.load({ text: SOCKET_ICMP_ECHO });
  const fn = b.loadFunc("icmp_echo_filter", BPF.SOCKET_FILTER);
  const sock = pair.inNs(pair.nsB, () => BPF.attachRawSocket(fn, pair.devB));
  try {
    assert.equal(ping(pair, 6), 6);
    const types: number[] = [];
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 2000);
    for await (const p of sock.packets({ signal: ac.signal })) {
      assert.equal((p[12]! << 8) | p[13]!, 0x0800);
      types.push(p[14 + ((p[14]! & 0xf) << 2)]!);
      if (types.length === 12) break;
    }
    clearTimeout(timer);
    assert.equal(types.filter((t) => t === 8).length, 6, "echo requests");
    assert.equal(types.filter((t) => t === 0).length, 6, "echo replies");
    assert.equal(b.table("kept").get(0), 6n);
    assert.equal(b.table("kept").get(1), 6n);
    assert.equal(sock.receive(), undefined, "nothing else passed the filter");
  } finally {
    sock.close();
    b.close();
  }
  assert.equal(liveFds().size, fds);
});

test("SO_ATTACH_BPF on the caller's UDP socket: the filter's verdict decides which datagrams arrive", { skip }, async () => {
  const b = await BPF.load({ text: SOCKET_ICMP_ECHO });
  try {
    const fn = b.loadFunc("small_only", BPF.SOCKET_FILTER);
    pair.inNs(pair.nsA, () => {
      const rx = socketOpen(Sock.AF_INET, Sock.SOCK_DGRAM | Sock.SOCK_NONBLOCK, 0);
      const tx = socketOpen(Sock.AF_INET, Sock.SOCK_DGRAM, 0);
      try {
        const addr = new Uint8Array(16);
        new DataView(addr.buffer).setUint16(0, Sock.AF_INET, true);
        new DataView(addr.buffer).setUint16(2, 40123, false);
        addr.set([127, 0, 0, 1], 4);
        bindSocket(rx, addr);
        BPF.attachSocketFilter(fn, rx);
        for (const size of [10, 500, 20, 600, 30]) sendTo(tx, new Uint8Array(size), 0, addr);
        const got: number[] = [];
        const buf = new Uint8Array(2048);
        for (let n; (n = recvFrom(rx, buf, 0)) >= 0;) got.push(n);
        assert.deepEqual(got, [10, 20, 30]);
        assert.equal(b.table("udp_seen").get(0), 5n);
      } finally {
        closeFd(rx);
        closeFd(tx);
      }
    });
    assert.throws(() => BPF.attachSocketFilter(fn, -1), { code: "BAD_ARGUMENT", argument: "socket" });
    assert.throws(() => BPF.attachSocketFilter(fn, 0x7ffff), { code: "ATTACH", message: /not an open file descriptor/ });
    assert.throws(() => BPF.attachRawSocket(fn, "nosuchdev0"), { code: "BAD_ARGUMENT", argument: "dev" });
    const xdp = await BPF.load({ text: "int x(struct xdp_md *ctx) { return XDP_PASS; }" });
    try {
      assert.throws(() => BPF.attachRawSocket(xdp.loadFunc("x", BPF.XDP), "lo"), { code: "BAD_ARGUMENT", message: /XDP program cannot attach to socket/ });
    } finally {
      xdp.close();
    }
  } finally {
    b.close();
  }
});

test("cgroup_skb egress blocks the cgroup's pings only while attached", { skip: skip || (!CGROUP2 && "no cgroup v2 hierarchy is mounted") }, async () => {
  const cg = `${CGROUP2}/tsbcc-net-${process.pid}`;
  mkdirSync(cg);
  const pingInCgroup = (n: number): number => {
    const r = spawnSync("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${pair.nsA} ping -n -q -c ${n} -i 0.01 -W 1 ${pair.ipB}`], { encoding: "utf8" });
    return Number(r.stdout.match(/(\d+) received/)?.[1] ?? 0);
  };
  const fds = liveFds().size;
  const b = await BPF.load({ text: CGROUP_SKB_NO_ICMP });
  try {
    assert.equal(pingInCgroup(3), 3, "before attach");
    b.attachCgroup({ cgroup: cg, hook: "egress", fnName: "egress_no_icmp" });
    assert.equal(pingInCgroup(5), 0, "while attached");
    assert.equal(b.table("denied").get(0), 5n);
    assert.equal(ping(pair, 3), 3, "a process outside the cgroup is not affected");
    assert.throws(() => b.attachCgroup({ cgroup: cg, hook: "egress", fnName: "egress_no_icmp" }), { code: "ATTACH", message: /already attached/ });
    b.detachCgroup({ cgroup: cg, hook: "egress", fnName: "egress_no_icmp" });
    assert.equal(pingInCgroup(4), 4, "after detach");
    assert.equal(b.table("denied").get(0), 5n);
    assert.throws(() => b.attachCgroup({ cgroup: "/tmp", hook: "egress", fnName: "egress_no_icmp" }), { code: "BAD_ARGUMENT", argument: "cgroup" });
    assert.throws(() => b.attachCgroup({ cgroup: "/nonexistent/cg", hook: "egress", fnName: "egress_no_icmp" }), { code: "BAD_ARGUMENT", argument: "cgroup" });
    assert.throws(() => b.attachCgroup({ cgroup: cg, hook: "nohook" as "egress", fnName: "egress_no_icmp" }), { code: "BAD_ARGUMENT", argument: "hook" });
    assert.throws(() => b.attachCgroup({ cgroup: cg, hook: "connect4", fn: b.loadFunc("egress_no_icmp", BPF.CGROUP_SKB) }),
      { code: "BAD_ARGUMENT", message: /CGROUP_SKB program cannot attach to cgroup connect4/ });
  } finally {
    b.close();
    rmdirSync(cg);
  }
  assert.equal(liveFds().size, fds);
});

test("cgroup sock_create, connect4, sysctl and device hooks deny only while attached", { skip: skip || (!CGROUP2 && "no cgroup v2 hierarchy is mounted") }, async () => {
  const cg = `${CGROUP2}/tsbcc-net-hooks-${process.pid}`;
  mkdirSync(cg);
  /** Runs `script` with bash in the cgroup and the namespace nsA; returns its exit status and stderr. */
  const inCgroup = (script: string): { status: number | null; err: string } => {
    const r = spawnSync("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${pair.nsA} bash -c '${script}'`], { encoding: "utf8" });
    return { status: r.status, err: r.stderr };
  };
  const cases = [
    { hook: "sock_create", fn: "no_ipv6_sockets", script: "exec 3<>/dev/udp/::1/9", slot: 0 },
    { hook: "connect4", fn: "no_port_9", script: `exec 3<>/dev/tcp/${pair.ipB}/9`, slot: 1 },
    { hook: "sysctl", fn: "no_ostype", script: "cat /proc/sys/kernel/ostype", slot: 2 },
    { hook: "device", fn: "no_dev_zero", script: "head -c 1 /dev/zero", slot: 3 },
  ] as const;
  const b = await BPF.load({ text: CGROUP_HOOKS_DENY });
  try {
    for (const c of cases) {
      const before = inCgroup(c.script);
      assert.doesNotMatch(before.err, /Operation not permitted/, `${c.hook} before attach`);
      b.attachCgroup({ cgroup: cg, hook: c.hook, fnName: c.fn });
      const during = inCgroup(c.script);
      assert.notEqual(during.status, 0, `${c.hook} while attached`);
      assert.match(during.err, /Operation not permitted/, `${c.hook} while attached`);
      assert.equal(b.table("denied").get(c.slot), 1n, `${c.hook} counted one denial`);
      b.detachCgroup({ cgroup: cg, hook: c.hook, fnName: c.fn });
      assert.doesNotMatch(inCgroup(c.script).err, /Operation not permitted/, `${c.hook} after detach`);
    }
  } finally {
    b.close();
    rmdirSync(cg);
  }
});
