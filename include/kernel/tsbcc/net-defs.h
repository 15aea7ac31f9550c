/* tsbcc: member shorthands the kernel's networking headers define as macros (net/sock.h, net/inet_sock.h,
 * net/inet_timewait_sock.h, net/request_sock.h, linux/tcp.h, ...), so that `sk->sk_family` or
 * `inet->inet_dport` written for BCC compiles against vmlinux.h. Only the networking shims include this:
 * the names are short and a program that includes no networking header may use them for its own things. */
#ifndef __TSBCC_NET_DEFS_H
#define __TSBCC_NET_DEFS_H
#include <tsbcc/kernel.h>

/* struct sock: fields of the embedded struct sock_common */
#define sk_node __sk_common.skc_node
#define sk_nulls_node __sk_common.skc_nulls_node
#define sk_refcnt __sk_common.skc_refcnt
#define sk_tx_queue_mapping __sk_common.skc_tx_queue_mapping
#define sk_rx_queue_mapping __sk_common.skc_rx_queue_mapping
#define sk_dontcopy_begin __sk_common.skc_dontcopy_begin
#define sk_dontcopy_end __sk_common.skc_dontcopy_end
#define sk_hash __sk_common.skc_hash
#define sk_portpair __sk_common.skc_portpair
#define sk_num __sk_common.skc_num
#define sk_dport __sk_common.skc_dport
#define sk_addrpair __sk_common.skc_addrpair
#define sk_daddr __sk_common.skc_daddr
#define sk_rcv_saddr __sk_common.skc_rcv_saddr
#define sk_family __sk_common.skc_family
#define sk_state __sk_common.skc_state
#define sk_reuse __sk_common.skc_reuse
#define sk_reuseport __sk_common.skc_reuseport
#define sk_ipv6only __sk_common.skc_ipv6only
#define sk_net_refcnt __sk_common.skc_net_refcnt
#define sk_bound_dev_if __sk_common.skc_bound_dev_if
#define sk_bind_node __sk_common.skc_bind_node
#define sk_prot __sk_common.skc_prot
#define sk_net __sk_common.skc_net
#define sk_v6_daddr __sk_common.skc_v6_daddr
#define sk_v6_rcv_saddr __sk_common.skc_v6_rcv_saddr
#define sk_cookie __sk_common.skc_cookie
#define sk_incoming_cpu __sk_common.skc_incoming_cpu
#define sk_flags __sk_common.skc_flags
#define sk_rxhash __sk_common.skc_rxhash

/* struct inet_sock: fields of the embedded struct sock */
#define inet_daddr sk.__sk_common.skc_daddr
#define inet_rcv_saddr sk.__sk_common.skc_rcv_saddr
#define inet_dport sk.__sk_common.skc_dport
#define inet_num sk.__sk_common.skc_num

/* struct inet_timewait_sock */
#define tw_family __tw_common.skc_family
#define tw_state __tw_common.skc_state
#define tw_reuse __tw_common.skc_reuse
#define tw_ipv6only __tw_common.skc_ipv6only
#define tw_bound_dev_if __tw_common.skc_bound_dev_if
#define tw_node __tw_common.skc_nulls_node
#define tw_bind_node __tw_common.skc_bind_node
#define tw_refcnt __tw_common.skc_refcnt
#define tw_hash __tw_common.skc_hash
#define tw_prot __tw_common.skc_prot
#define tw_net __tw_common.skc_net
#define tw_daddr __tw_common.skc_daddr
#define tw_v6_daddr __tw_common.skc_v6_daddr
#define tw_rcv_saddr __tw_common.skc_rcv_saddr
#define tw_v6_rcv_saddr __tw_common.skc_v6_rcv_saddr
#define tw_dport __tw_common.skc_dport
#define tw_num __tw_common.skc_num
#define tw_cookie __tw_common.skc_cookie

/* struct request_sock / struct inet_request_sock */
#define rsk_refcnt __req_common.skc_refcnt
#define rsk_hash __req_common.skc_hash
#define ir_loc_addr req.__req_common.skc_rcv_saddr
#define ir_rmt_addr req.__req_common.skc_daddr
#define ir_num req.__req_common.skc_num
#define ir_rmt_port req.__req_common.skc_dport
#define ir_v6_rmt_addr req.__req_common.skc_v6_daddr
#define ir_v6_loc_addr req.__req_common.skc_v6_rcv_saddr
#define ir_iif req.__req_common.skc_bound_dev_if
#define ir_cookie req.__req_common.skc_cookie
#define ireq_net req.__req_common.skc_net
#define ireq_state req.__req_common.skc_state
#define ireq_family req.__req_common.skc_family

/* socket casts: the kernel's versions are container_of on the first member, i.e. plain casts */
#ifndef inet_sk
#define inet_sk(sk) ((struct inet_sock *)(sk))
#endif
#ifndef inet_csk
#define inet_csk(sk) ((struct inet_connection_sock *)(sk))
#endif
#ifndef tcp_sk
#define tcp_sk(sk) ((struct tcp_sock *)(sk))
#endif
#ifndef udp_sk
#define udp_sk(sk) ((struct udp_sock *)(sk))
#endif
#ifndef inet_rsk
#define inet_rsk(rsk) ((struct inet_request_sock *)(rsk))
#endif
#ifndef inet_twsk
#define inet_twsk(sk) ((struct inet_timewait_sock *)(sk))
#endif

/* struct sk_buff: the control buffer of the TCP layer (net/tcp.h) and the shared info after the data
 * (linux/skbuff.h). Both are addresses computed from the skb, not reads, except skb_shinfo: its
 * position is skb->head + skb->end when the kernel keeps header positions as offsets (64-bit kernels,
 * sk_buff_data_t is a 32-bit integer) and skb->end itself when they are pointers. Which one applies is
 * read from this kernel's BTF through the width of the end member, and the two fields are probe reads
 * (a tracing program may not load kernel memory directly). The reads are libbpf's bpf_probe_read_kernel by
 * name, so the dialect rewriter knows the results point into the kernel and probe-reads through them. */
#ifndef TCP_SKB_CB
#define TCP_SKB_CB(skb) ((struct tcp_skb_cb *)&((skb)->cb[0]))
#endif
#ifndef skb_end_pointer
#define skb_end_pointer(skb)                                                                      \
	({                                                                                        \
		const struct sk_buff *__tsbcc_skb = (const struct sk_buff *)(skb);                \
		unsigned char *__tsbcc_head = 0;                                                  \
		__typeof__(__tsbcc_skb->end) __tsbcc_end;                                         \
		__builtin_memset(&__tsbcc_end, 0, sizeof(__tsbcc_end));                           \
		bpf_probe_read_kernel(&__tsbcc_head, sizeof(__tsbcc_head), &__tsbcc_skb->head); \
		bpf_probe_read_kernel(&__tsbcc_end, sizeof(__tsbcc_end), &__tsbcc_skb->end);  \
		(unsigned char *)((unsigned long)__tsbcc_end +                                    \
				  (sizeof(__tsbcc_end) < sizeof(void *) ? (unsigned long)__tsbcc_head : 0)); \
	})
#endif
#ifndef skb_shinfo
#define skb_shinfo(skb) ((struct skb_shared_info *)skb_end_pointer(skb))
#endif
/* Header positions: offsets from skb->head (the kernel's skb_*_header() and the ip_hdr() family). */
#define __TSBCC_SKB_HEADER(skb, field)                                                            \
	({                                                                                        \
		const struct sk_buff *__tsbcc_skb = (const struct sk_buff *)(skb);                \
		unsigned char *__tsbcc_head = 0;                                                  \
		__u16 __tsbcc_off = 0;                                                            \
		bpf_probe_read_kernel(&__tsbcc_head, sizeof(__tsbcc_head), &__tsbcc_skb->head); \
		bpf_probe_read_kernel(&__tsbcc_off, sizeof(__tsbcc_off), &__tsbcc_skb->field); \
		__tsbcc_head + __tsbcc_off;                                                       \
	})
#ifndef skb_network_header
#define skb_network_header(skb) __TSBCC_SKB_HEADER(skb, network_header)
#define skb_transport_header(skb) __TSBCC_SKB_HEADER(skb, transport_header)
#define skb_mac_header(skb) __TSBCC_SKB_HEADER(skb, mac_header)
#endif
#ifndef ip_hdr
#define ip_hdr(skb) ((struct iphdr *)skb_network_header(skb))
#define ipv6_hdr(skb) ((struct ipv6hdr *)skb_network_header(skb))
#define tcp_hdr(skb) ((struct tcphdr *)skb_transport_header(skb))
#define udp_hdr(skb) ((struct udphdr *)skb_transport_header(skb))
#define icmp_hdr(skb) ((struct icmphdr *)skb_transport_header(skb))
#define eth_hdr(skb) ((struct ethhdr *)skb_mac_header(skb))
#endif

/* Socket states as bits (TCPF_*: enum constants in BTF), and the kernel's full-socket test. */
#ifndef sk_fullsock
#define sk_fullsock(sk) ((1 << (sk)->sk_state) & ~(TCPF_TIME_WAIT | TCPF_NEW_SYN_RECV))
#endif

#endif /* __TSBCC_NET_DEFS_H */
