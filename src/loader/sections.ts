// libbpf's section-name conventions: the section a program lives in says what it is and where it attaches.
// A section we do not recognise is still a program; its type is given when it is loaded (BCC's load_func).
import { AttachType, NetAttachType as N, ProgType } from "../sys/abi.js";

export interface SectionKind {
  progType: number;
  expectedAttachType: number;
  /** What follows the prefix, e.g. "syscalls/sys_enter_getppid" for "tracepoint/syscalls/sys_enter_getppid". */
  target: string;
  /** The attach mechanism `attach()` uses. */
  attach: "tracepoint" | "raw_tracepoint" | "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "btf" | "iter" | "perf_event" | "xdp" | "tc" | "socket" | "cgroup" | "sockmap" | "none";
}

const prefixes: [string, Omit<SectionKind, "target">][] = [
  ["tracepoint/", { progType: ProgType.TRACEPOINT, expectedAttachType: 0, attach: "tracepoint" }],
  ["tp/", { progType: ProgType.TRACEPOINT, expectedAttachType: 0, attach: "tracepoint" }],
  ["raw_tracepoint/", { progType: ProgType.RAW_TRACEPOINT, expectedAttachType: 0, attach: "raw_tracepoint" }],
  ["raw_tp/", { progType: ProgType.RAW_TRACEPOINT, expectedAttachType: 0, attach: "raw_tracepoint" }],
  ["tp_btf/", { progType: ProgType.TRACING, expectedAttachType: AttachType.TRACE_RAW_TP, attach: "btf" }],
  ["kprobe/", { progType: ProgType.KPROBE, expectedAttachType: 0, attach: "kprobe" }],
  ["kretprobe/", { progType: ProgType.KPROBE, expectedAttachType: 0, attach: "kretprobe" }],
  ["uprobe/", { progType: ProgType.KPROBE, expectedAttachType: 0, attach: "uprobe" }],
  ["uretprobe/", { progType: ProgType.KPROBE, expectedAttachType: 0, attach: "uretprobe" }],
  ["fentry/", { progType: ProgType.TRACING, expectedAttachType: AttachType.TRACE_FENTRY, attach: "btf" }],
  ["fexit/", { progType: ProgType.TRACING, expectedAttachType: AttachType.TRACE_FEXIT, attach: "btf" }],
  ["fmod_ret/", { progType: ProgType.TRACING, expectedAttachType: AttachType.MODIFY_RETURN, attach: "btf" }],
  ["lsm/", { progType: ProgType.LSM, expectedAttachType: AttachType.LSM_MAC, attach: "btf" }],
  ["iter/", { progType: ProgType.TRACING, expectedAttachType: AttachType.TRACE_ITER, attach: "iter" }],
  ["perf_event", { progType: ProgType.PERF_EVENT, expectedAttachType: 0, attach: "perf_event" }],
  ["xdp", { progType: ProgType.XDP, expectedAttachType: 0, attach: "xdp" }],
  ["tc", { progType: ProgType.SCHED_CLS, expectedAttachType: 0, attach: "tc" }],
  ["classifier", { progType: ProgType.SCHED_CLS, expectedAttachType: 0, attach: "tc" }],
  ["action", { progType: ProgType.SCHED_ACT, expectedAttachType: 0, attach: "none" }],
  ["socket", { progType: ProgType.SOCKET_FILTER, expectedAttachType: 0, attach: "socket" }],
  // Networking (issue 12): cgroup hooks carry their expected attach type; tcx/ is tc through TCX links.
  ["tcx/ingress", { progType: ProgType.SCHED_CLS, expectedAttachType: N.TCX_INGRESS, attach: "tc" }],
  ["tcx/egress", { progType: ProgType.SCHED_CLS, expectedAttachType: N.TCX_EGRESS, attach: "tc" }],
  ["cgroup_skb/ingress", { progType: ProgType.CGROUP_SKB, expectedAttachType: N.CGROUP_INET_INGRESS, attach: "cgroup" }],
  ["cgroup_skb/egress", { progType: ProgType.CGROUP_SKB, expectedAttachType: N.CGROUP_INET_EGRESS, attach: "cgroup" }],
  ["cgroup/skb", { progType: ProgType.CGROUP_SKB, expectedAttachType: 0, attach: "cgroup" }],
  ["cgroup/sock_create", { progType: ProgType.CGROUP_SOCK, expectedAttachType: N.CGROUP_INET_SOCK_CREATE, attach: "cgroup" }],
  ["cgroup/sock_release", { progType: ProgType.CGROUP_SOCK, expectedAttachType: N.CGROUP_INET_SOCK_RELEASE, attach: "cgroup" }],
  ["cgroup/sock", { progType: ProgType.CGROUP_SOCK, expectedAttachType: N.CGROUP_INET_SOCK_CREATE, attach: "cgroup" }],
  ["cgroup/post_bind4", { progType: ProgType.CGROUP_SOCK, expectedAttachType: N.CGROUP_INET4_POST_BIND, attach: "cgroup" }],
  ["cgroup/post_bind6", { progType: ProgType.CGROUP_SOCK, expectedAttachType: N.CGROUP_INET6_POST_BIND, attach: "cgroup" }],
  ["cgroup/bind4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET4_BIND, attach: "cgroup" }],
  ["cgroup/bind6", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET6_BIND, attach: "cgroup" }],
  ["cgroup/connect4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET4_CONNECT, attach: "cgroup" }],
  ["cgroup/connect6", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET6_CONNECT, attach: "cgroup" }],
  ["cgroup/sendmsg4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_UDP4_SENDMSG, attach: "cgroup" }],
  ["cgroup/sendmsg6", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_UDP6_SENDMSG, attach: "cgroup" }],
  ["cgroup/recvmsg4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_UDP4_RECVMSG, attach: "cgroup" }],
  ["cgroup/recvmsg6", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_UDP6_RECVMSG, attach: "cgroup" }],
  ["cgroup/getpeername4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET4_GETPEERNAME, attach: "cgroup" }],
  ["cgroup/getsockname4", { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: N.CGROUP_INET4_GETSOCKNAME, attach: "cgroup" }],
  ["cgroup/sysctl", { progType: ProgType.CGROUP_SYSCTL, expectedAttachType: N.CGROUP_SYSCTL, attach: "cgroup" }],
  ["cgroup/dev", { progType: ProgType.CGROUP_DEVICE, expectedAttachType: N.CGROUP_DEVICE, attach: "cgroup" }],
  ["cgroup/getsockopt", { progType: ProgType.CGROUP_SOCKOPT, expectedAttachType: N.CGROUP_GETSOCKOPT, attach: "cgroup" }],
  ["cgroup/setsockopt", { progType: ProgType.CGROUP_SOCKOPT, expectedAttachType: N.CGROUP_SETSOCKOPT, attach: "cgroup" }],
  ["sockops", { progType: ProgType.SOCK_OPS, expectedAttachType: N.CGROUP_SOCK_OPS, attach: "cgroup" }],
  ["sk_skb/stream_parser", { progType: ProgType.SK_SKB, expectedAttachType: N.SK_SKB_STREAM_PARSER, attach: "sockmap" }],
  ["sk_skb/stream_verdict", { progType: ProgType.SK_SKB, expectedAttachType: N.SK_SKB_STREAM_VERDICT, attach: "sockmap" }],
  ["sk_skb", { progType: ProgType.SK_SKB, expectedAttachType: 0, attach: "sockmap" }],
  ["sk_msg", { progType: ProgType.SK_MSG, expectedAttachType: N.SK_MSG_VERDICT, attach: "sockmap" }],
  ["sk_lookup", { progType: ProgType.SK_LOOKUP, expectedAttachType: N.SK_LOOKUP, attach: "none" }],
  ["flow_dissector", { progType: ProgType.FLOW_DISSECTOR, expectedAttachType: 0, attach: "none" }],
  ["syscall", { progType: ProgType.SYSCALL, expectedAttachType: 0, attach: "none" }],
];

export function classifySection(section: string): SectionKind {
  for (const [prefix, kind] of prefixes) {
    if (section === prefix || section.startsWith(prefix)) {
      // "xdp" must not match "xdpfoo/..." style names of other conventions: require end or a separator.
      const rest = section.slice(prefix.length);
      if (!prefix.endsWith("/") && rest !== "" && !rest.startsWith("/") && !rest.startsWith(".")) continue;
      return { ...kind, target: rest.replace(/^\//, "") };
    }
  }
  return { progType: ProgType.UNSPEC, expectedAttachType: 0, attach: "none", target: "" };
}
