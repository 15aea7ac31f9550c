// tcpdrop: one line per TCP packet the kernel drops, with its addresses, ports, the socket's state, the TCP flags
// and the kernel stack, from the skb:kfree_skb tracepoint and its drop reason (a reason above NOT_SPECIFIED is a
// real drop; reason names come from the tracepoint's own table). The IP and TCP headers are read from the skb
// (head + network header, then the IP header length), the socket from rx_sk where the tracepoint has it, else
// skb->sk. Unlike BCC, drops with no socket (e.g. a SYN to a closed port, NO_SOCKET) are shown too, state "-".
// kfree_skb gained its reason in 5.17; older kernels (BCC's tcp_drop kprobe) are not covered.
import { AddressFamily, EtherType, IpProto } from "../sys/abi.js";
import { BPF } from "../index.js";
import { kernelStructHasField } from "../kernel/btf.js";
import { clock, left } from "./lib/format.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { chosenFamily, familyNumber, familyOptions, formatAddr, tcpStateName } from "./lib/tcp.js";
import { symbolicNames } from "./lib/tracepoint-symbols.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "tcpdrop";

export interface TcpDropEvent {
  ts: bigint;
  pid: number;
  ipVersion: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** The socket's TCP state ("ESTABLISHED", ...), undefined when the packet had no socket. */
  state?: string;
  /** TCP flags byte and its names ("SYN|ACK"). */
  tcpFlags: number;
  flags: string;
  /** The kernel's drop reason ("NO_SOCKET", "TCP_INVALID_SEQUENCE", ...). */
  reason: string;
  /** Kernel stack, innermost first, symbolized ("tcp_v4_rcv+0x1f4"); empty when it could not be taken. */
  stack: string[];
}

export interface TcpdropOptions extends StreamOptions {
  ipVersion?: 4 | 6;
}

const SOURCES: readonly SourceCandidate[] = [{ kind: "tracepoint", targets: ["skb:kfree_skb"] }];

/** TCP flag names in the order BCC prints them. */
const TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

export function tcpFlagNames(flags: number): string {
  return TCP_FLAGS.filter((_, i) => flags & (1 << i)).join("|");
}

function notSpecified(): number {
  for (const [n, name] of symbolicNames("skb", "kfree_skb", "reason")) if (name === "NOT_SPECIFIED") return n;
  return 2;
}

function program(o: TcpdropOptions): string {
  const rxSk = kernelStructHasField("trace_event_raw_kfree_skb", "rx_sk");
  return `
#include <linux/skbuff.h>
#include <net/sock.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}
#define REASON_NOT_SPECIFIED ${notSpecified()}
#define ETH_P_IP_NR ${EtherType.ETH_P_IP}
#define ETH_P_IPV6_NR ${EtherType.ETH_P_IPV6}
#define AF_INET_NR ${AddressFamily.AF_INET}
#define AF_INET6_NR ${AddressFamily.AF_INET6}
#define IPPROTO_TCP_NR ${IpProto.IPPROTO_TCP}
#define NO_STATE 255

struct drop_event_t {
    u64 ts;
    u32 pid;
    int stack_id;
    u8 saddr[16];
    u8 daddr[16];
    u16 sport;
    u16 dport;
    u16 family;
    u8 state;
    u8 flags;
    u32 reason;
    u32 pad;
};

BPF_STACK_TRACE(stack_traces, 1024);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(skb, kfree_skb) {
    if (args->reason <= REASON_NOT_SPECIFIED) return 0;
    if (args->protocol != ETH_P_IP_NR && args->protocol != ETH_P_IPV6_NR) return 0;
    struct sk_buff *skb = (struct sk_buff *)args->skbaddr;
    unsigned char *head = skb->head;
    u16 nh = skb->network_header;
    u8 vihl = 0;
    bpf_probe_read_kernel(&vihl, 1, head + nh);
    struct drop_event_t ev = {};
    u32 thoff;
    if ((vihl >> 4) == 4) {
        struct iphdr ip = {};
        bpf_probe_read_kernel(&ip, sizeof(ip), head + nh);
        if (ip.protocol != IPPROTO_TCP_NR) return 0;
        ev.family = AF_INET_NR;
        __builtin_memcpy(&ev.saddr, &ip.saddr, 4);
        __builtin_memcpy(&ev.daddr, &ip.daddr, 4);
        thoff = nh + (vihl & 0xf) * 4;
    } else if ((vihl >> 4) == 6) {
        struct ipv6hdr ip6 = {};
        bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh);
        if (ip6.nexthdr != IPPROTO_TCP_NR) return 0;
        ev.family = AF_INET6_NR;
        __builtin_memcpy(&ev.saddr, &ip6.saddr, 16);
        __builtin_memcpy(&ev.daddr, &ip6.daddr, 16);
        thoff = nh + sizeof(ip6);
    } else {
        return 0;
    }
    if (FILTER_FAMILY && ev.family != FILTER_FAMILY) return 0;
    struct tcphdr th = {};
    bpf_probe_read_kernel(&th, sizeof(th), head + thoff);
    ev.sport = bpf_ntohs(th.source);
    ev.dport = bpf_ntohs(th.dest);
    ev.flags = ((u8 *)&th)[13];
    struct sock *sk = ${rxSk ? "(struct sock *)args->rx_sk" : "NULL"};
    if (!sk) sk = skb->sk;
    ev.state = NO_STATE;
    if (sk) ev.state = sk->__sk_common.skc_state;
    ev.ts = bpf_ktime_get_ns();
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    ev.reason = args->reason;
    ev.stack_id = stack_traces.get_stackid(args, 0);
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawDrop { ts: bigint; pid: number; stack_id: number; saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number; state: number; flags: number; reason: number }

/** tcpdrop as a library: one TcpDropEvent per dropped TCP packet (with a drop reason). */
export async function tcpdrop(opts: TcpdropOptions = {}, chosen?: ChosenSource): Promise<ToolStream<TcpDropEvent>> {
  chosenFamily(NAME, { ipv4: opts.ipVersion === 4, ipv6: opts.ipVersion === 6 });
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts));
  const stacks = b.table("stack_traces") as unknown as { walk(id: number): IterableIterator<bigint> };
  const reasons = symbolicNames("skb", "kfree_skb", "reason");
  return eventStream<RawDrop, TcpDropEvent>(b, "events", source, opts, (r) => {
    const stack: string[] = [];
    if (r.stack_id >= 0) {
      try {
        for (const addr of stacks.walk(r.stack_id)) stack.push(BPF.ksym(addr, { showOffset: true }));
      } catch {
        // the stack was evicted: none
      }
    }
    return {
      ts: r.ts, pid: r.pid, ipVersion: r.family === AddressFamily.AF_INET6 ? 6 : 4,
      saddr: formatAddr(r.family, r.saddr), sport: r.sport, daddr: formatAddr(r.family, r.daddr), dport: r.dport,
      state: r.state === 255 ? undefined : tcpStateName(r.state), tcpFlags: r.flags, flags: tcpFlagNames(r.flags),
      reason: reasons.get(r.reason) ?? String(r.reason), stack,
    };
  });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace TCP drops by the kernel",
  json: "event",
  sources: SOURCES,
  options: familyOptions(),
  examples: [
    ["tsbcc tcpdrop", "trace kernel TCP drops"],
    ["tsbcc tcpdrop -4", "trace IPv4 family only"],
    ["tsbcc tcpdrop -6", "trace IPv6 family only"],
    ["tsbcc tcpdrop --json", "one JSON object per drop, with the drop reason and stack"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await tcpdrop({ ipVersion: chosenFamily(NAME, o), signal: run.signal }, run.source);
  if (!run.json) run.out.write(`${left("TIME", 8)} ${left("PID", 7)} ${left("IP", 2)} ${left("SADDR:SPORT", 20)} > ${left("DADDR:DPORT", 20)} STATE (FLAGS)\n`);
  return printEvents(stream, run, (ev) => {
    const ep = (a: string, p: number): string => left(`${a}:${p}`, 20);
    return `${left(clock(), 8)} ${left(ev.pid, 7)} ${left(ev.ipVersion, 2)} ${ep(ev.saddr, ev.sport)} > ${ep(ev.daddr, ev.dport)} ${ev.state ?? "-"} (${ev.flags})\n` +
      ev.stack.map((f) => `\t${f}\n`).join("") + "\n";
  });
}

export const tool: CliTool = { spec, main };
