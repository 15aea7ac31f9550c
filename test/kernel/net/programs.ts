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

/** Socket filter (LD_ABS byte loads): keeps IPv4 ICMP echo requests and replies, drops everything else. */
export const SOCKET_ICMP_ECHO = `
BPF_ARRAY(kept, u64, 2);
int icmp_echo_filter(struct __sk_buff *skb) {
    if (load_half(skb, 12) != 0x0800 || load_byte(skb, 23) != 1) return 0;
    u8 type = load_byte(skb, 14 + ((load_byte(skb, 14) & 0xf) << 2));
    if (type == 8) { kept.atomic_increment(0); return -1; }
    if (type == 0) { kept.atomic_increment(1); return -1; }
    return 0;
}
BPF_ARRAY(udp_seen, u64, 1);
int small_only(struct __sk_buff *skb) {
    udp_seen.atomic_increment(0);
    return skb->len > 200 ? 0 : skb->len;
}
`;

/** cgroup_skb egress: denies IPv4 ICMP (and counts it), allows the rest. */
export const CGROUP_SKB_NO_ICMP = `
BPF_ARRAY(denied, u64, 1);
int egress_no_icmp(struct __sk_buff *skb) {
    struct iphdr ip;
    if (skb->protocol != bpf_htons(0x0800)) return 1;
    if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0) return 1;
    if (ip.protocol != 1) return 1;
    denied.atomic_increment(0);
    return 0;
}
`;

/** Tail calls (three programs, each counting) and a map-in-map lookup, all run through testRun. */
export const TAIL_CALLS_AND_MAP_IN_MAP = `
BPF_PROG_ARRAY(jump, 4);
BPF_ARRAY(hits, u64, 4);
BPF_ARRAY(inner_a, u64, 1);
BPF_ARRAY(inner_b, u64, 1);
BPF_ARRAY_OF_MAPS(outer, "inner_a", 2);
int stage0(struct xdp_md *ctx) { hits.atomic_increment(0); jump.call(ctx, 1); return XDP_ABORTED; }
int stage1(struct xdp_md *ctx) { hits.atomic_increment(1); jump.call(ctx, 2); return XDP_ABORTED; }
int stage2(struct xdp_md *ctx) { hits.atomic_increment(2); return XDP_PASS; }
int via_outer(struct xdp_md *ctx) {
    int slot = ctx->rx_queue_index;
    int zero = 0;
    void *inner = outer.lookup(&slot);
    if (!inner) return XDP_ABORTED;
    u64 *v = bpf_map_lookup_elem(inner, &zero);
    if (!v) return XDP_ABORTED;
    __sync_fetch_and_add(v, 1);
    return XDP_PASS;
}
`;

/** sockmap echo: whatever a socket in slot 0 receives is sent straight back out of it; sk_msg counts bytes sent. */
export const SOCKMAP_ECHO = `
BPF_SOCKMAP(sock_map, 2);
BPF_SOCKHASH(sock_hash, u32, 4);
BPF_ARRAY(stats, u64, 2);
BPF_SK_STORAGE(sent_by_socket, u64);
int echo_parser(struct __sk_buff *skb) { return skb->len; }
int echo_verdict(struct __sk_buff *skb) {
    stats.atomic_increment(0, skb->len);
    return sock_map.sk_redirect_map(skb, 0, 0);
}
int count_msg(struct sk_msg_md *msg) {
    stats.atomic_increment(1, msg->size);
    u64 *per_socket = sent_by_socket.sk_storage_get(msg->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (per_socket) __sync_fetch_and_add(per_socket, msg->size);
    return SK_PASS;
}
`;

/** XDP redirect through a DEVMAP and a CPUMAP; a missing slot falls back to the flags' action (PASS). */
export const XDP_REDIRECT_MAPS = `
BPF_DEVMAP(tx_port, 4);
BPF_CPUMAP(cpus, 4);
BPF_XSKMAP(xsks, 4);
int to_dev(struct xdp_md *ctx) { return tx_port.redirect_map(0, XDP_PASS); }
int to_cpu(struct xdp_md *ctx) { return cpus.redirect_map(0, XDP_PASS); }
int to_xsk(struct xdp_md *ctx) { return xsks.redirect_map(ctx->rx_queue_index, XDP_DROP); }
`;

/** bcc/proto.h cursor parsing: counts by protocol and rewrites the UDP destination port (tc). */
export const PROTO_PARSE = `
#include <bcc/proto.h>
BPF_ARRAY(counts, u64, 8);
int proto_count(struct __sk_buff *skb) {
    u8 *cursor = 0;
    struct ethernet_t *ethernet = cursor_advance(cursor, sizeof(*ethernet));
    if (ethernet->type != 0x0800) return TC_ACT_OK;
    struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
    if (ip->ver != 4 || ip->hlen != 5) return TC_ACT_OK;
    counts.increment(0);
    if (ip->nextp == 1) {
        counts.increment(1);
        /* Decrement the TTL and fix the header checksum for the 16-bit word that holds it. */
        u16 before = load_half(skb, 22);
        ip->ttl = ip->ttl - 1;
        u16 after = load_half(skb, 22);
        bpf_l3_csum_replace(skb, 24, bpf_htons(before), bpf_htons(after), 2);
    }
    if (ip->src == 0x0ac80001) counts.increment(2);
    if (ip->ttl == 64 || ip->ttl == 63) counts.increment(3);
    if (ethernet->src == 0x020000000001ULL) counts.increment(4);
    if (ip->nextp == 17) {
        struct udp_t *udp = cursor_advance(cursor, sizeof(*udp));
        if (udp->dport == 53) {
            counts.increment(5);
            udp->dport = 5353;
            ip->tos = 0x2e;
        }
    }
    return TC_ACT_OK;
}
`;

/** One program per remaining cgroup hook: each denies one narrow thing and counts what it denied. */
export const CGROUP_HOOKS_DENY = `
BPF_ARRAY(denied, u64, 4);
/* cgroup/sock_create: no IPv6 sockets. */
int no_ipv6_sockets(struct bpf_sock *sk) {
    if (sk->family != 10) return 1;
    denied.atomic_increment(0);
    return 0;
}
/* cgroup/connect4: no connections to port 9. */
int no_port_9(struct bpf_sock_addr *ctx) {
    if (ctx->user_port != bpf_htons(9)) return 1;
    denied.atomic_increment(1);
    return 0;
}
/* cgroup/sysctl: no reads of kernel.ostype. */
int no_ostype(struct bpf_sysctl *ctx) {
    char name[16] = {};
    if (bpf_sysctl_get_name(ctx, name, sizeof(name), 1 /* BPF_F_SYSCTL_BASE_NAME */) < 0) return 1;
    if (name[0] != 'o' || name[1] != 's' || name[2] != 't' || name[3] != 'y' || name[4] != 'p' || name[5] != 'e' || name[6]) return 1;
    denied.atomic_increment(2);
    return 0;
}
/* cgroup/dev: no /dev/zero (character device 1:5). */
int no_dev_zero(struct bpf_cgroup_dev_ctx *ctx) {
    if ((ctx->access_type & 0xffff) != 2 /* BPF_DEVCG_DEV_CHAR */ || ctx->major != 1 || ctx->minor != 5) return 1;
    denied.atomic_increment(3);
    return 0;
}
`;
