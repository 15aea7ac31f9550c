// Kernel ABI numbers (uapi/linux/bpf.h), by name. Everything above src/sys/ uses these names, never bare numbers.

export const ProgType = {
  UNSPEC: 0, SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7,
  CGROUP_SKB: 8, CGROUP_SOCK: 9, LWT_IN: 10, LWT_OUT: 11, LWT_XMIT: 12, SOCK_OPS: 13, SK_SKB: 14,
  CGROUP_DEVICE: 15, SK_MSG: 16, RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, LWT_SEG6LOCAL: 19, LIRC_MODE2: 20,
  SK_REUSEPORT: 21, FLOW_DISSECTOR: 22, CGROUP_SYSCTL: 23, RAW_TRACEPOINT_WRITABLE: 24, CGROUP_SOCKOPT: 25,
  TRACING: 26, STRUCT_OPS: 27, EXT: 28, LSM: 29, SK_LOOKUP: 30, SYSCALL: 31, NETFILTER: 32,
} as const;
export type ProgTypeName = keyof typeof ProgType;

export const MapType = {
  UNSPEC: 0, HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6,
  STACK_TRACE: 7, CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13, DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20, PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25,
  STRUCT_OPS: 26, RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30, USER_RINGBUF: 31,
  CGRP_STORAGE: 32, ARENA: 33,
} as const;

/** enum bpf_attach_type values by name (tracing, cgroup, socket-map, XDP and tc hooks). */
export const AttachType = {
  NONE: 0, CGROUP_INET_INGRESS: 0, CGROUP_INET_EGRESS: 1, CGROUP_INET_SOCK_CREATE: 2, CGROUP_SOCK_OPS: 3,
  SK_SKB_STREAM_PARSER: 4, SK_SKB_STREAM_VERDICT: 5, CGROUP_DEVICE: 6, SK_MSG_VERDICT: 7,
  CGROUP_INET4_BIND: 8, CGROUP_INET6_BIND: 9, CGROUP_INET4_CONNECT: 10, CGROUP_INET6_CONNECT: 11,
  CGROUP_INET4_POST_BIND: 12, CGROUP_INET6_POST_BIND: 13, CGROUP_UDP4_SENDMSG: 14, CGROUP_UDP6_SENDMSG: 15,
  CGROUP_SYSCTL: 18, CGROUP_UDP4_RECVMSG: 19, CGROUP_UDP6_RECVMSG: 20, CGROUP_GETSOCKOPT: 21,
  CGROUP_SETSOCKOPT: 22, TRACE_RAW_TP: 23, TRACE_FENTRY: 24, TRACE_FEXIT: 25, MODIFY_RETURN: 26, LSM_MAC: 27,
  TRACE_ITER: 28, CGROUP_INET4_GETPEERNAME: 29, CGROUP_INET6_GETPEERNAME: 30,
  CGROUP_INET4_GETSOCKNAME: 31, CGROUP_INET6_GETSOCKNAME: 32, XDP_DEVMAP: 33, CGROUP_INET_SOCK_RELEASE: 34,
  XDP_CPUMAP: 35, SK_LOOKUP: 36, XDP: 37, SK_SKB_VERDICT: 38, PERF_EVENT: 41, TRACE_KPROBE_MULTI: 42,
  NETFILTER: 45, TCX_INGRESS: 46, TCX_EGRESS: 47,
} as const;
export type AttachTypeName = keyof typeof AttachType;

export const MapFlags = { NO_PREALLOC: 1, NO_COMMON_LRU: 2, RDONLY_PROG: 1 << 7, MMAPABLE: 1 << 10 } as const;

export function mapTypeName(t: number): string {
  return Object.entries(MapType).find(([, v]) => v === t)?.[0] ?? `map type ${t}`;
}
export function progTypeName(t: number): string {
  return Object.entries(ProgType).find(([, v]) => v === t)?.[0] ?? `prog type ${t}`;
}

// ---- networking (issue 12): link types, XDP/tc/netlink/socket numbers (attach types are in AttachType above).
/** XDP_FLAGS_* (if_link.h): how an XDP program is attached. */
export const XdpFlags = { UPDATE_IF_NOEXIST: 1, SKB_MODE: 2, DRV_MODE: 4, HW_MODE: 8, REPLACE: 16 } as const;
/** XDP verdicts (enum xdp_action). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
/** tc verdicts (TC_ACT_*) a direct-action classifier returns. */
export const TcAction = { UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7 } as const;

/** Sockets, netlink and packet sockets (socket.h, netlink.h, if_packet.h). */
export const Sock = {
  AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_NETLINK: 16, AF_PACKET: 17,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1, SO_ATTACH_FILTER: 26, SO_DETACH_FILTER: 27, SO_ATTACH_BPF: 50, SO_RCVBUF: 8,
  SOL_NETLINK: 270, NETLINK_ROUTE: 0, NETLINK_EXT_ACK: 11, NETLINK_GET_STRICT_CHK: 12,
  ETH_P_ALL: 0x0003, ETH_P_IP: 0x0800, MSG_DONTWAIT: 0x40, MSG_TRUNC: 0x20,
  SOL_PACKET: 263, PACKET_STATISTICS: 6,
} as const;

/** rtnetlink message types, flags and attributes (rtnetlink.h, if_link.h, pkt_sched.h, pkt_cls.h). */
export const Rtnl = {
  NLMSG_ERROR: 2, NLMSG_DONE: 3,
  NLM_F_REQUEST: 1, NLM_F_MULTI: 2, NLM_F_ACK: 4, NLM_F_ROOT: 0x100, NLM_F_MATCH: 0x200, NLM_F_DUMP: 0x300,
  NLM_F_REPLACE: 0x100, NLM_F_EXCL: 0x200, NLM_F_CREATE: 0x400, NLM_F_CAPPED: 0x100, NLM_F_ACK_TLVS: 0x200,
  NLMSGERR_ATTR_MSG: 1, NLA_F_NESTED: 0x8000,
  RTM_NEWLINK: 16, RTM_GETLINK: 18, RTM_SETLINK: 19,
  RTM_NEWQDISC: 36, RTM_DELQDISC: 37, RTM_GETQDISC: 38, RTM_NEWTFILTER: 44, RTM_DELTFILTER: 45, RTM_GETTFILTER: 46,
  IFLA_IFNAME: 3, IFLA_XDP: 43,
  IFLA_XDP_FD: 1, IFLA_XDP_ATTACHED: 2, IFLA_XDP_FLAGS: 3, IFLA_XDP_PROG_ID: 4, IFLA_XDP_DRV_PROG_ID: 5,
  IFLA_XDP_SKB_PROG_ID: 6, IFLA_XDP_HW_PROG_ID: 7, IFLA_XDP_EXPECTED_FD: 8,
  TCA_KIND: 1, TCA_OPTIONS: 2,
  TCA_BPF_FD: 6, TCA_BPF_NAME: 7, TCA_BPF_FLAGS: 8, TCA_BPF_FLAGS_GEN: 9, TCA_BPF_ID: 11,
  TCA_BPF_FLAG_ACT_DIRECT: 1,
  TC_H_CLSACT: 0xfffffff1, TC_H_MIN_INGRESS: 0xfff2, TC_H_MIN_EGRESS: 0xfff3, CLSACT_HANDLE: 0xffff0000,
} as const;

/** Kernel link types (enum bpf_link_type), for link info. */
export const LinkType = { XDP: 6, NETNS: 5, CGROUP: 3, TCX: 11, SOCKMAP: 14, NETKIT: 13 } as const;
/** statfs f_type of a cgroup v2 mount. */
export const CGROUP2_SUPER_MAGIC = 0x63677270;
/** PROG_ATTACH flags for cgroups. */
export const CgroupAttachFlags = { ALLOW_OVERRIDE: 1, ALLOW_MULTI: 2, REPLACE: 4 } as const;
/** setns(2) namespace type of a network namespace. */
export const CLONE_NEWNET = 0x40000000;

/** BPF helper function ids (uapi `enum bpf_func_id`) that tsbcc emits or probes with. */
export const BpfHelper = { override_return: 58 } as const;

/** statfs f_type of the BPF filesystem (uapi/linux/magic.h); pinned objects live only there. */
export const BPF_FS_MAGIC = 0xcafe4a11;
/** libbpf's map `pinning` attribute: pin by the map's name under the pin root. */
export const LibbpfPin = { NONE: 0, BY_NAME: 1 } as const;

/** open(2) flags (uapi asm-generic/fcntl.h, x86-64 values), for tools that filter or print them. */
export const OpenFlags = {
  O_RDONLY: 0, O_WRONLY: 0o1, O_RDWR: 0o2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000,
  O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_DSYNC: 0o10000, FASYNC: 0o20000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_NOATIME: 0o1000000, O_CLOEXEC: 0o2000000, O_SYNC: 0o4010000,
  O_PATH: 0o10000000, O_TMPFILE: 0o20200000,
} as const;

/** mount(2) flags (uapi linux/mount.h), for mountsnoop. */
export const MountFlags = {
  MS_RDONLY: 1, MS_NOSUID: 2, MS_NODEV: 4, MS_NOEXEC: 8, MS_SYNCHRONOUS: 16, MS_REMOUNT: 32, MS_MANDLOCK: 64,
  MS_DIRSYNC: 128, MS_NOSYMFOLLOW: 256, MS_NOATIME: 1024, MS_NODIRATIME: 2048, MS_BIND: 4096, MS_MOVE: 8192,
  MS_REC: 16384, MS_SILENT: 32768, MS_POSIXACL: 1 << 16, MS_UNBINDABLE: 1 << 17, MS_PRIVATE: 1 << 18,
  MS_SLAVE: 1 << 19, MS_SHARED: 1 << 20, MS_RELATIME: 1 << 21, MS_KERNMOUNT: 1 << 22, MS_I_VERSION: 1 << 23,
  MS_STRICTATIME: 1 << 24, MS_LAZYTIME: 1 << 25, MS_ACTIVE: 1 << 30, MS_NOUSER: 2 ** 31,
} as const;

/** umount2(2) flags. */
export const UmountFlags = { MNT_FORCE: 1, MNT_DETACH: 2, MNT_EXPIRE: 4, UMOUNT_NOFOLLOW: 8 } as const;

/** Address families used by the TCP tools. */
export const AddressFamily = { AF_INET: 2, AF_INET6: 10 } as const;
/** IP protocol numbers used by the TCP tools. */
export const IpProto = { IPPROTO_TCP: 6 } as const;

/** Capability names by number (uapi linux/capability.h), for capable. */
export const CapabilityNames = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
  "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
  "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
  "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
] as const;
/** cap_capable()'s `opts` bit that marks a check as not audited (security.h CAP_OPT_NOAUDIT). */
export const CAP_OPT_NOAUDIT = 0b10;
/** cap_capable()'s `opts` bit set when the check is made by a setid call (security.h CAP_OPT_INSETID, ns_capable_setid). */
export const CAP_OPT_INSETID = 0b100;

/** Capability bit numbers (linux/capability.h), for reading CapEff in /proc/self/status. */
export const Capability = { SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;
/** struct file's f_mode bit set when an open created the file (linux/fs.h FMODE_CREATED, 1 << 20 since 4.19). */
export const FMODE_CREATED = 0x100000;
/** Ethernet protocol numbers as skb->protocol carries them (host order in tracepoints; linux/if_ether.h). */
export const EtherType = { ETH_P_IP: 0x0800, ETH_P_IPV6: 0x86dd } as const;
