// libbpf's section-name conventions: the section a program lives in says what it is and where it attaches.
// A section we do not recognise is still a program; its type is given when it is loaded (BCC's load_func).
import { AttachType, ProgType } from "../sys/abi.js";

export interface SectionKind {
  progType: number;
  expectedAttachType: number;
  /** What follows the prefix, e.g. "syscalls/sys_enter_getppid" for "tracepoint/syscalls/sys_enter_getppid". */
  target: string;
  /** The attach mechanism `attach()` uses. */
  attach: "tracepoint" | "raw_tracepoint" | "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "btf" | "iter" | "perf_event" | "xdp" | "tc" | "socket" | "none";
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
  ["syscall", { progType: ProgType.SYSCALL, expectedAttachType: 0, attach: "none" }],
  // Program types the kernel loads only with an expected attach type (the dialect puts them here by context type).
  ["cgroup/getsockopt", { progType: ProgType.CGROUP_SOCKOPT, expectedAttachType: AttachType.CGROUP_GETSOCKOPT, attach: "none" }],
  ["cgroup/setsockopt", { progType: ProgType.CGROUP_SOCKOPT, expectedAttachType: AttachType.CGROUP_SETSOCKOPT, attach: "none" }],
  ...([["bind4", "INET4_BIND"], ["bind6", "INET6_BIND"], ["connect4", "INET4_CONNECT"], ["connect6", "INET6_CONNECT"],
    ["sendmsg4", "UDP4_SENDMSG"], ["sendmsg6", "UDP6_SENDMSG"], ["recvmsg4", "UDP4_RECVMSG"], ["recvmsg6", "UDP6_RECVMSG"],
    ["getpeername4", "INET4_GETPEERNAME"], ["getpeername6", "INET6_GETPEERNAME"], ["getsockname4", "INET4_GETSOCKNAME"],
    ["getsockname6", "INET6_GETSOCKNAME"]] as const).map(([hook, at]): [string, Omit<SectionKind, "target">] =>
    [`cgroup/${hook}`, { progType: ProgType.CGROUP_SOCK_ADDR, expectedAttachType: AttachType[`CGROUP_${at}`], attach: "none" }]),
  ["sk_lookup", { progType: ProgType.SK_LOOKUP, expectedAttachType: AttachType.SK_LOOKUP, attach: "none" }],
  ["netfilter", { progType: ProgType.NETFILTER, expectedAttachType: AttachType.NETFILTER, attach: "none" }],
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
