// The one owner of "what a program is": BCC function name -> ELF section (the dialect emits it), and section ->
// program type, expected attach type and how it attaches (the loader loads by it; `BPF` autoloads and
// `BPFObject` attaches by it). libbpf's section conventions; a section we do not recognise is still a program,
// whose type is given when it is loaded (BCC's load_func).
import { AttachType, ProgType } from "../sys/abi.js";

export type AttachKind =
  "tracepoint" | "raw_tracepoint" | "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "btf" | "iter" | "perf_event" | "xdp" | "tc" | "socket" | "cgroup" | "sockmap" | "none";

export interface SectionKind {
  progType: number;
  expectedAttachType: number;
  /** What follows the prefix, e.g. "syscalls/sys_enter_getppid" for "tracepoint/syscalls/sys_enter_getppid". */
  target: string;
  /** The attach mechanism `attach()` uses. */
  attach: AttachKind;
  /** The section names its attach point completely, so loading attaches it (BCC's autoload, libbpf's auto-attach). */
  autoload: boolean;
}

type Rule = Omit<SectionKind, "target">;
const rule = (progType: number, attach: AttachKind, autoload: boolean, expectedAttachType: number = AttachType.NONE): Rule =>
  ({ progType, expectedAttachType, attach, autoload });

const prefixes: [string, Rule][] = [
  ["tracepoint/", rule(ProgType.TRACEPOINT, "tracepoint", true)],
  ["tp/", rule(ProgType.TRACEPOINT, "tracepoint", true)],
  ["raw_tracepoint/", rule(ProgType.RAW_TRACEPOINT, "raw_tracepoint", true)],
  ["raw_tp/", rule(ProgType.RAW_TRACEPOINT, "raw_tracepoint", true)],
  ["tp_btf/", rule(ProgType.TRACING, "btf", true, AttachType.TRACE_RAW_TP)],
  ["kprobe/", rule(ProgType.KPROBE, "kprobe", true)],
  ["kretprobe/", rule(ProgType.KPROBE, "kretprobe", true)],
  ["uprobe/", rule(ProgType.KPROBE, "uprobe", false)],
  ["uretprobe/", rule(ProgType.KPROBE, "uretprobe", false)],
  ["fentry/", rule(ProgType.TRACING, "btf", true, AttachType.TRACE_FENTRY)],
  ["fexit/", rule(ProgType.TRACING, "btf", true, AttachType.TRACE_FEXIT)],
  // BCC never autoloads KMOD_RET: it changes what the kernel function returns.
  ["fmod_ret/", rule(ProgType.TRACING, "btf", false, AttachType.MODIFY_RETURN)],
  ["lsm/", rule(ProgType.LSM, "btf", true, AttachType.LSM_MAC)],
  ["iter/", rule(ProgType.TRACING, "iter", false, AttachType.TRACE_ITER)],
  ["perf_event", rule(ProgType.PERF_EVENT, "perf_event", false)],
  ["xdp", rule(ProgType.XDP, "xdp", false)],
  ["tc", rule(ProgType.SCHED_CLS, "tc", false)],
  ["classifier", rule(ProgType.SCHED_CLS, "tc", false)],
  ["action", rule(ProgType.SCHED_ACT, "none", false)],
  ["socket", rule(ProgType.SOCKET_FILTER, "socket", false)],
  ["syscall", rule(ProgType.SYSCALL, "none", false)],
  // Networking (src/net/): tcx/ is tc through TCX links; cgroup hooks and socket-map programs carry the expected
  // attach type the kernel wants at load (the dialect also puts some here by context type, see sectionForContext).
  ["tcx/ingress", rule(ProgType.SCHED_CLS, "tc", false, AttachType.TCX_INGRESS)],
  ["tcx/egress", rule(ProgType.SCHED_CLS, "tc", false, AttachType.TCX_EGRESS)],
  ["cgroup_skb/ingress", rule(ProgType.CGROUP_SKB, "cgroup", false, AttachType.CGROUP_INET_INGRESS)],
  ["cgroup_skb/egress", rule(ProgType.CGROUP_SKB, "cgroup", false, AttachType.CGROUP_INET_EGRESS)],
  ["cgroup/skb", rule(ProgType.CGROUP_SKB, "cgroup", false)],
  ["cgroup/sock_create", rule(ProgType.CGROUP_SOCK, "cgroup", false, AttachType.CGROUP_INET_SOCK_CREATE)],
  ["cgroup/sock_release", rule(ProgType.CGROUP_SOCK, "cgroup", false, AttachType.CGROUP_INET_SOCK_RELEASE)],
  ["cgroup/sock", rule(ProgType.CGROUP_SOCK, "cgroup", false, AttachType.CGROUP_INET_SOCK_CREATE)],
  ["cgroup/post_bind4", rule(ProgType.CGROUP_SOCK, "cgroup", false, AttachType.CGROUP_INET4_POST_BIND)],
  ["cgroup/post_bind6", rule(ProgType.CGROUP_SOCK, "cgroup", false, AttachType.CGROUP_INET6_POST_BIND)],
  ["cgroup/sysctl", rule(ProgType.CGROUP_SYSCTL, "cgroup", false, AttachType.CGROUP_SYSCTL)],
  ["cgroup/dev", rule(ProgType.CGROUP_DEVICE, "cgroup", false, AttachType.CGROUP_DEVICE)],
  ["cgroup/getsockopt", rule(ProgType.CGROUP_SOCKOPT, "cgroup", false, AttachType.CGROUP_GETSOCKOPT)],
  ["cgroup/setsockopt", rule(ProgType.CGROUP_SOCKOPT, "cgroup", false, AttachType.CGROUP_SETSOCKOPT)],
  ...([["bind4", "INET4_BIND"], ["bind6", "INET6_BIND"], ["connect4", "INET4_CONNECT"], ["connect6", "INET6_CONNECT"],
    ["sendmsg4", "UDP4_SENDMSG"], ["sendmsg6", "UDP6_SENDMSG"], ["recvmsg4", "UDP4_RECVMSG"], ["recvmsg6", "UDP6_RECVMSG"],
    ["getpeername4", "INET4_GETPEERNAME"], ["getpeername6", "INET6_GETPEERNAME"], ["getsockname4", "INET4_GETSOCKNAME"],
    ["getsockname6", "INET6_GETSOCKNAME"]] as const).map(([hook, at]): [string, Rule] =>
    [`cgroup/${hook}`, rule(ProgType.CGROUP_SOCK_ADDR, "cgroup", false, AttachType[`CGROUP_${at}`])]),
  ["sockops", rule(ProgType.SOCK_OPS, "cgroup", false, AttachType.CGROUP_SOCK_OPS)],
  ["sk_skb/stream_parser", rule(ProgType.SK_SKB, "sockmap", false, AttachType.SK_SKB_STREAM_PARSER)],
  ["sk_skb/stream_verdict", rule(ProgType.SK_SKB, "sockmap", false, AttachType.SK_SKB_STREAM_VERDICT)],
  ["sk_skb", rule(ProgType.SK_SKB, "sockmap", false)],
  ["sk_msg", rule(ProgType.SK_MSG, "sockmap", false, AttachType.SK_MSG_VERDICT)],
  ["sk_lookup", rule(ProgType.SK_LOOKUP, "none", false, AttachType.SK_LOOKUP)],
  ["flow_dissector", rule(ProgType.FLOW_DISSECTOR, "none", false)],
  ["netfilter", rule(ProgType.NETFILTER, "none", false, AttachType.NETFILTER)],
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
  return { ...rule(ProgType.UNSPEC, "none", false), target: "" };
}

/** Splits `tracepoint__<cat>__<evt>`'s rest: the category is between the first and the last `__`. */
export function splitTracepointName(rest: string): { category: string; event: string } | undefined {
  const last = rest.lastIndexOf("__");
  if (last <= 0) return undefined;
  const category = rest.slice(0, last);
  const event = rest.slice(last + 2);
  if (!category || !event) return undefined;
  return { category, event };
}

/** BCC function-name prefixes and the section prefix their programs go to (docs/DIALECT.md, "Object conventions"). */
const functionPrefixes: [namePrefix: string, sectionPrefix: string, dropModule: boolean][] = [
  ["raw_tracepoint__", "raw_tracepoint/", false],
  ["kprobe__", "kprobe/", false],
  ["kretprobe__", "kretprobe/", false],
  ["kfunc__", "fentry/", true],
  ["kretfunc__", "fexit/", true],
  ["kmod_ret__", "fmod_ret/", false],
  ["lsm__", "lsm/", false],
  ["bpf_iter__", "iter/", false],
];

/** The ELF section of a BCC program function; names without a known prefix go to `prog/<name>` (type given at load). */
/**
 * Program types the kernel loads only with an expected attach type, recognised by their context type (the
 * function's first parameter): the section names the attach type so that a load without one succeeds. Where one
 * context serves several attach points, the function's name chooses (BCC users name them so), else the function
 * stays in `prog/` and its attach type must be given at load.
 */
function sectionForContext(name: string, ctxType: string): string | undefined {
  const t = ctxType.replace(/\s+/g, " ").replace(/^const /, "");
  if (t === "struct bpf_sockopt *") return /get/i.test(name) ? "cgroup/getsockopt" : "cgroup/setsockopt";
  if (t === "struct bpf_sock_addr *") {
    const hook = /(bind|connect|sendmsg|recvmsg|getpeername|getsockname)(4|6)/i.exec(name);
    return hook ? `cgroup/${hook[1]!.toLowerCase()}${hook[2]}` : undefined;
  }
  if (t === "struct bpf_sk_lookup *") return "sk_lookup";
  if (t === "struct bpf_nf_ctx *") return "netfilter";
  return undefined;
}

/** `ctxType`: the type of the function's first parameter (the program context), when known. */
export function sectionFor(name: string, ctxType?: string): string {
  if (name.startsWith("tracepoint__")) {
    const s = splitTracepointName(name.slice("tracepoint__".length));
    if (s) return `tracepoint/${s.category}/${s.event}`;
  }
  for (const [namePrefix, sectionPrefix, dropModule] of functionPrefixes) {
    if (!name.startsWith(namePrefix) || name.length === namePrefix.length) continue;
    let rest = name.slice(namePrefix.length);
    // kfunc__<module>__<function>: the module picks the BTF, the section names the function.
    const cut = dropModule ? rest.indexOf("__") : -1;
    if (cut > 0) rest = rest.slice(cut + 2);
    return sectionPrefix + rest;
  }
  return (ctxType && sectionForContext(name, ctxType)) || `prog/${name}`;
}
