// The BPF C the networking tests load (BCC dialect, no kernel headers): small, each counting what it sees so
// the tests can compare the kernel's counts with the packets they sent.

/** XDP: drops IPv4 ICMP and counts the drops; everything else (ARP, IPv6) passes. */
export const XDP_ICMP_DROP = `
BPF_ARRAY(dropped, u64, 1);
int xdp_icmp_drop(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(0x0800)) return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != 1) return XDP_PASS;
    dropped.atomic_increment(0);
    return XDP_DROP;
}
int tc_count(struct __sk_buff *skb) { return TC_ACT_OK; }
`;

/** tc: counts IPv4 ICMP packets on the hook and lets everything through. */
export const TC_ICMP_COUNT = `
BPF_ARRAY(seen, u64, 1);
int tc_icmp_count(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(0x0800)) return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != 1) return TC_ACT_OK;
    seen.atomic_increment(0);
    return TC_ACT_OK;
}
int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }
`;
