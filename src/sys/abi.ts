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

export const AttachType = {
  NONE: 0, CGROUP_INET4_BIND: 8, CGROUP_INET6_BIND: 9, CGROUP_INET4_CONNECT: 10, CGROUP_INET6_CONNECT: 11,
  CGROUP_UDP4_SENDMSG: 14, CGROUP_UDP6_SENDMSG: 15, CGROUP_UDP4_RECVMSG: 19, CGROUP_UDP6_RECVMSG: 20,
  CGROUP_GETSOCKOPT: 21, CGROUP_SETSOCKOPT: 22, CGROUP_INET4_GETPEERNAME: 29, CGROUP_INET6_GETPEERNAME: 30,
  CGROUP_INET4_GETSOCKNAME: 31, CGROUP_INET6_GETSOCKNAME: 32, SK_LOOKUP: 36, NETFILTER: 45, TRACE_RAW_TP: 23, TRACE_FENTRY: 24, TRACE_FEXIT: 25, MODIFY_RETURN: 26, LSM_MAC: 27,
  TRACE_ITER: 28, XDP: 37, PERF_EVENT: 41, TRACE_KPROBE_MULTI: 42,
} as const;

export const MapFlags = { NO_PREALLOC: 1, NO_COMMON_LRU: 2, RDONLY_PROG: 1 << 7, MMAPABLE: 1 << 10 } as const;

export function mapTypeName(t: number): string {
  return Object.entries(MapType).find(([, v]) => v === t)?.[0] ?? `map type ${t}`;
}
export function progTypeName(t: number): string {
  return Object.entries(ProgType).find(([, v]) => v === t)?.[0] ?? `prog type ${t}`;
}

/** BPF helper function ids (uapi `enum bpf_func_id`) that tsbcc emits or probes with. */
export const BpfHelper = { override_return: 58 } as const;

/** statfs f_type of the BPF filesystem (uapi/linux/magic.h); pinned objects live only there. */
export const BPF_FS_MAGIC = 0xcafe4a11;
/** libbpf's map `pinning` attribute: pin by the map's name under the pin root. */
export const LibbpfPin = { NONE: 0, BY_NAME: 1 } as const;

/** Capability bit numbers (linux/capability.h), for reading CapEff in /proc/self/status. */
export const Capability = { SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;
