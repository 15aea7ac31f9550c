// XDP drop counter: an XDP program on one network device drops every IPv4 and IPv6 packet before the kernel's
// network stack sees it, counting them per IP protocol in a per-CPU array; ARP and other frames pass, so the
// link stays resolvable. User space prints the drop rate per protocol every second and the totals at the end.
// Detaching (Ctrl-C, --duration, or process death: it is a BPF link where the kernel has XDP links) restores
// the device.
//
//   node dist/examples/xdp-drop-count.js DEVICE [--mode generic|driver] [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { positional, runOptions, sleep } from "./lib/run.js";

const args = process.argv.slice(2);
const dev = positional("xdp-drop-count DEVICE [--mode generic|driver] [--duration SECONDS]", ["--mode", "--duration"]);
const mode = (args.includes("--mode") ? args[args.indexOf("--mode") + 1] : "generic") as "generic" | "driver";
const { signal } = runOptions();

const b = await BPF.load({
  text: `
BPF_PERCPU_ARRAY(dropped, u64, 256);

static __always_inline int ip_protocol(void *data, void *end, u16 ethertype, u64 offset) {
    if (ethertype == bpf_htons(0x0800)) {
        struct iphdr *ip = data + offset;
        if ((void *)(ip + 1) > end) return -1;
        return ip->protocol;
    }
    if (ethertype == bpf_htons(0x86DD)) {
        struct ipv6hdr *ip6 = data + offset;
        if ((void *)(ip6 + 1) > end) return -1;
        return ip6->nexthdr;
    }
    return -1;
}

int xdp_drop_count(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return XDP_PASS;
    u16 ethertype = eth->h_proto;
    u64 offset = sizeof(*eth);
    /* One VLAN tag is looked through. */
    if (ethertype == bpf_htons(0x8100) || ethertype == bpf_htons(0x88A8)) {
        struct vlan_hdr *vlan = data + offset;
        if ((void *)(vlan + 1) > end) return XDP_PASS;
        ethertype = vlan->h_vlan_encapsulated_proto;
        offset += sizeof(*vlan);
    }
    int proto = ip_protocol(data, end, ethertype, offset);
    if (proto < 0) return XDP_PASS;
    u32 key = proto & 0xff;
    u64 *count = dropped.lookup(&key);
    if (count) *count += 1;
    return XDP_DROP;
}
`,
});

const names: Record<number, string> = { 0: "ipv6-hop", 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6" };
const totals = new Map<number, bigint>();
try {
  b.attachXdp(dev, "xdp_drop_count", { mode });
  const table = b.table("dropped");
  console.log(`Dropping IP packets on ${dev} (${mode} mode), counting per protocol. Ctrl-C to end.`);
  const protocols = [...Array(256).keys()];
  const sample = (): Map<number, bigint> =>
    new Map(protocols.map((p) => [p, (table.sum(p) as bigint | undefined) ?? 0n] as const).filter(([, n]) => n > 0n));
  while (!signal.aborted) {
    await sleep(1000, signal);
    const now = sample();
    for (const [proto, n] of now) {
      const rate = n - (totals.get(proto) ?? 0n);
      if (rate > 0n) console.log(`${(names[proto] ?? `proto ${proto}`).padEnd(8)} ${rate} pkt/s`);
      totals.set(proto, n);
    }
  }
  for (const [proto, n] of sample()) totals.set(proto, n);
} finally {
  b.close();
}
console.log("TOTAL");
for (const [proto, n] of [...totals].sort((a, c) => a[0] - c[0])) console.log(`${(names[proto] ?? `proto ${proto}`).padEnd(8)} ${n}`);
