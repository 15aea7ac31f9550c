// Tier 2, networking: XDP and tc on a veth pair between two network namespaces the test creates (addresses only
// inside them). Every count is compared with the pings actually sent.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { BPF } from "../../src/api/bpf.js";
import { queryXdp, tcFilters, tcxPrograms } from "../../src/net/index.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang } from "../helpers/build.js";
import { createVethPair, havePing, netnsUnavailable, ping, type VethPair } from "../helpers/netns.js";
import { TC_ICMP_COUNT, XDP_ICMP_DROP } from "./net/programs.js";

const skip = !haveClang ? "clang is needed" : netnsUnavailable() ?? (!havePing() ? "ping (iputils-ping) is not installed" : false);
const child = fileURLToPath(new URL("./net/attach-child.js", import.meta.url));
let pair: VethPair;

before(() => {
  if (!skip) pair = createVethPair();
});
after(() => pair?.destroy());

/** Starts the attach child in nsB and waits for its first line. */
async function startChild(args: string[]): Promise<{ kill(): Promise<void>; line: any }> {
  const p = pair.spawn(pair.nsB, [process.execPath, child, ...args]);
  let buf = "";
  p.stdout!.setEncoding("utf8");
  p.stdout!.on("data", (d: string) => (buf += d));
  while (!buf.includes("\n")) {
    const [code] = await Promise.race([once(p.stdout!, "data"), once(p, "exit")]) as [unknown];
    if (typeof code === "number" || code === null) break;
  }
  const exited = once(p, "exit");
  return {
    line: buf ? JSON.parse(buf.split("\n")[0]!) : undefined,
    async kill() {
      p.kill("SIGKILL");
      await exited;
    },
  };
}

for (const via of ["link", "netlink"] as const) {
  test(`XDP (${via}) drops and counts exactly the pings sent, and lets them through after detach`, { skip }, async () => {
    const fds = liveFds().size;
    const b = await BPF.load({ text: XDP_ICMP_DROP });
    try {
      pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic", via }));
      const state = pair.inNs(pair.nsB, () => queryXdp(pair.devB));
      assert.equal(state.attached, 2, "XDP_ATTACHED_SKB");
      assert.ok(state.genericProgId && state.genericProgId > 0);
      assert.equal(ping(pair, 12), 0);
      assert.equal(b.table("dropped").get(0), 12n);
      // detachXdp; close() from outside the namespace is covered below.
      pair.inNs(pair.nsB, () => b.detachXdp(pair.devB));
      assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 0);
      assert.equal(ping(pair, 5), 5);
      assert.equal(b.table("dropped").get(0), 12n);
    } finally {
      b.close();
    }
    assert.equal(liveFds().size, fds);
  });
}

test("BPF.removeXdp removes a netlink-attached program; a link attachment is gone on close from any namespace", { skip }, async () => {
  const b = await BPF.load({ text: XDP_ICMP_DROP });
  try {
    pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_icmp_drop", { flags: BPF.XDP_FLAGS_SKB_MODE, via: "netlink" }));
    pair.inNs(pair.nsB, () => BPF.removeXdp(pair.devB, BPF.XDP_FLAGS_SKB_MODE));
    assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 0);
    assert.equal(ping(pair, 3), 3);
  } finally {
    b.close(); // Its own netlink record finds nothing left to remove.
  }
  const b2 = await BPF.load({ text: XDP_ICMP_DROP });
  pair.inNs(pair.nsB, () => b2.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic" }));
  b2.close(); // From the host namespace.
  assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 0);
});

test("XDP bad input: unknown device, wrong program type, attaching twice, bad flags", { skip }, async () => {
  const fds = liveFds().size;
  const b = await BPF.load({ text: XDP_ICMP_DROP });
  const other = await BPF.load({ text: XDP_ICMP_DROP });
  try {
    assert.throws(() => b.attachXdp("nosuchdev0", "xdp_icmp_drop"), { code: "BAD_ARGUMENT", argument: "dev", message: /no network device named "nosuchdev0"/ });
    assert.throws(() => b.attachXdp(987654, "xdp_icmp_drop"), { code: "BAD_ARGUMENT", message: /no network device with index 987654/ });
    assert.throws(() => b.attachXdp("lo", "no_such_fn"), { code: "BAD_ARGUMENT", argument: "fn" });
    const tc = b.loadFunc("tc_count", BPF.SCHED_CLS);
    assert.throws(() => pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, tc)), { code: "BAD_ARGUMENT", message: /SCHED_CLS program cannot attach to XDP/ });
    assert.throws(() => b.attachXdp("lo", "xdp_icmp_drop", { flags: 0x40 }), { code: "BAD_ARGUMENT", argument: "flags" });
    assert.throws(() => b.attachXdp("lo", "xdp_icmp_drop", { flags: BPF.XDP_FLAGS_SKB_MODE | BPF.XDP_FLAGS_DRV_MODE }), { code: "BAD_ARGUMENT" });
    pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic" }));
    assert.throws(() => pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic" })), { code: "ATTACH", message: /already attached by this BPF object/ });
    assert.throws(() => pair.inNs(pair.nsB, () => other.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic" })), { code: "ATTACH", message: /already has an XDP program/ });
  } finally {
    b.close();
    other.close();
  }
  assert.equal(liveFds().size, fds);
});

test("XDP and tc without privileges: netlink says PERMISSION; links need only the program fd; nothing is left", { skip }, async () => {
  for (const mode of ["unpriv-xdp", "unpriv-tc"]) {
    const c = await startChild([mode, pair.devB, "netlink"]);
    await c.kill();
    assert.equal(c.line?.code, "PERMISSION", JSON.stringify(c.line));
    assert.match(c.line.message, /needs root/);
    // The kernel checks privileges at program load; holding a loaded program's fd is enough for an XDP or TCX
    // link (observed on 6.18). Either way the child exits and nothing stays attached.
    const viaLink = await startChild([mode, pair.devB, mode === "unpriv-xdp" ? "link" : "tcx"]);
    await viaLink.kill();
    assert.ok(viaLink.line?.attached === true || viaLink.line?.code === "PERMISSION", JSON.stringify(viaLink.line));
  }
  assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 0);
  assert.deepEqual(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)), []);
  assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)), []);
});

for (const via of ["tcx", "netlink"] as const) {
  test(`tc ingress classifier (${via}) counts every ping without dropping, and is gone after close`, { skip }, async () => {
    const fds = liveFds().size;
    const b = await BPF.load({ text: TC_ICMP_COUNT });
    try {
      pair.inNs(pair.nsB, () => b.attachTc({ dev: pair.devB, fnName: "tc_icmp_count", direction: "ingress", via }));
      if (via === "tcx") assert.equal(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)).length, 1);
      else assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)).map((f) => f.name), [`tsbcc:${process.pid}:tc_icmp_count`]);
      assert.equal(ping(pair, 10), 10);
      assert.equal(b.table("seen").get(0), 10n);
      assert.throws(() => pair.inNs(pair.nsB, () => b.attachTc({ dev: pair.devB, fnName: "tc_icmp_count" })), { code: "ATTACH" });
    } finally {
      b.close();
    }
    assert.deepEqual(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)), []);
    assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)), []);
    assert.doesNotMatch(pair.exec(pair.nsB, ["tc", "qdisc", "show", "dev", pair.devB]), /clsact/, "the clsact qdisc tsbcc created is removed");
    assert.equal(liveFds().size, fds);
  });
}

test("tc after SIGKILL: a TCX link is gone at once; a netlink filter is swept by the next attach", { skip }, async () => {
  const c = await startChild(["tc", pair.devB, "tcx"]);
  assert.deepEqual(c.line, { ready: true });
  assert.equal(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)).length, 1);
  await c.kill();
  // The link's last fd closed with the process; the kernel releases it right away.
  assert.deepEqual(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)), []);

  const n = await startChild(["tc", pair.devB, "netlink"]);
  assert.deepEqual(n.line, { ready: true });
  await n.kill();
  assert.equal(pair.inNs(pair.nsB, () => tcFilters(pair.devB)).length, 1, "cls_bpf filters outlive their process");
  const b = await BPF.load({ text: TC_ICMP_COUNT });
  try {
    pair.inNs(pair.nsB, () => b.attachTc({ dev: pair.devB, fnName: "tc_icmp_count", via: "netlink", priority: 2 }));
    assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)).map((f) => f.priority), [2]);
  } finally {
    b.close();
  }
  assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)), []);
});

test("tc bad input: direction, priority, handle, unknown device, wrong program type", { skip }, async () => {
  const b = await BPF.load({ text: TC_ICMP_COUNT });
  try {
    assert.throws(() => b.attachTc({ dev: "lo", fnName: "tc_icmp_count", direction: "sideways" as "ingress" }), { code: "BAD_ARGUMENT", argument: "direction" });
    assert.throws(() => b.attachTc({ dev: "lo", fnName: "tc_icmp_count", priority: 0, via: "netlink" }), { code: "BAD_ARGUMENT", argument: "priority" });
    assert.throws(() => b.attachTc({ dev: "lo", fnName: "tc_icmp_count", handle: -1, via: "netlink" }), { code: "BAD_ARGUMENT", argument: "handle" });
    assert.throws(() => b.attachTc({ dev: "nosuchdev0", fnName: "tc_icmp_count" }), { code: "BAD_ARGUMENT", argument: "dev" });
    assert.throws(() => b.attachTc({ dev: "lo" } as never), { code: "BAD_ARGUMENT", argument: "fnName" });
    const xdp = b.loadFunc("xdp_pass", BPF.XDP);
    assert.throws(() => pair.inNs(pair.nsB, () => b.attachTc({ dev: pair.devB, fn: xdp })), { code: "BAD_ARGUMENT", message: /XDP program cannot attach to tc/ });
    assert.throws(() => b.detachTc({ dev: "lo" }), /not attached/);
  } finally {
    b.close();
  }
});
