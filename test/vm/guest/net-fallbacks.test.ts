// Runs inside the VM guest (Debian 6.1: no TCX, no sockmap links): the networking attachments take the kernel's
// older interfaces on their own (tc: clsact + cls_bpf over rtnetlink; sk_skb/sk_msg: PROG_ATTACH on the map) and
// still count exactly what was sent, and leave nothing behind on close.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BPF } from "../../../src/api/bpf.js";
import { queryXdp, tcFilters, tcxPrograms } from "../../../src/net/index.js";
import { createVethPair, havePing, ping, type VethPair } from "../../helpers/netns.js";
import { SOCKMAP_ECHO, TC_ICMP_COUNT, XDP_ICMP_DROP } from "../../kernel/net/programs.js";

const inGuest = process.env.TSBCC_VM === "1";
const skip = !inGuest ? "not inside the VM guest (TSBCC_VM unset): run with `node dist/test/vm/run-vm-tier.js`"
  // The guest's kernel cannot autoload modules (its usermode helper lives outside the chroot): load them here.
  : ["veth", "sch_ingress", "cls_bpf"].some((m) => spawnSync("modprobe", [m]).status !== 0) ? "the guest kernel lacks veth, sch_ingress or cls_bpf"
  : !havePing() ? "ping is not installed" : false;
const child = fileURLToPath(new URL("../../kernel/net/sockmap-child.js", import.meta.url));
let pair: VethPair;

before(() => {
  if (!skip) pair = createVethPair();
});
after(() => pair?.destroy());

test("6.1 guest: tc falls back to clsact + cls_bpf, counts every ping, and is gone on close; XDP uses a link", { skip }, async () => {
  const b = await BPF.load({ text: XDP_ICMP_DROP + TC_ICMP_COUNT });
  try {
    pair.inNs(pair.nsB, () => b.attachTc({ dev: pair.devB, fnName: "tc_icmp_count" }));
    assert.deepEqual(pair.inNs(pair.nsB, () => tcxPrograms(pair.devB)), [], "no TCX on 6.1");
    assert.equal(pair.inNs(pair.nsB, () => tcFilters(pair.devB)).length, 1, "a cls_bpf filter instead");
    assert.equal(ping(pair, 5), 5);
    assert.equal(b.table("seen").get(0), 5n);
    pair.inNs(pair.nsB, () => b.detachTc({ dev: pair.devB }));
    assert.deepEqual(pair.inNs(pair.nsB, () => tcFilters(pair.devB)), []);
    assert.doesNotMatch(pair.exec(pair.nsB, ["tc", "qdisc", "show", "dev", pair.devB]), /clsact/);

    pair.inNs(pair.nsB, () => b.attachXdp(pair.devB, "xdp_icmp_drop", { mode: "generic", via: "link" }));
    assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 2);
    assert.equal(ping(pair, 4), 0);
    assert.equal(b.table("dropped").get(0), 4n);
  } finally {
    b.close();
  }
  assert.equal(pair.inNs(pair.nsB, () => queryXdp(pair.devB)).attached, 0);
});

test("6.1 guest: sockmap programs attach with PROG_ATTACH and the in-kernel echo works", { skip }, () => {
  void SOCKMAP_ECHO;
  const out = JSON.parse(pair.exec(pair.nsA, [process.execPath, child]).trim().split("\n").pop()!);
  assert.equal(out.got, "hellosockmapecho");
  assert.equal(out.verdictBytes, 16);
  assert.equal(out.msgBytes, 16);
});
