/* tsbcc: the networking maps of the BCC dialect (issue 12), kept apart from dialect.h: socket maps
 * (BPF_SOCKMAP, BPF_SOCKHASH) and local-storage maps (BPF_SK_STORAGE, BPF_INODE_STORAGE, BPF_TASK_STORAGE,
 * BPF_CGRP_STORAGE, BPF_CGROUP_STORAGE). Included at the end of dialect.h; the method signatures below are
 * spliced into the analyze-mode map struct, and src/dialect/rewrite-net-maps.ts turns each call into its
 * helper. */
#ifndef __TSBCC_NET_MAPS_H
#define __TSBCC_NET_MAPS_H

/* Analyze mode: members of struct __tsbcc_map_<name>, so clang type-checks `map.method(...)`. */
#define __TSBCC_NET_MAP_METHODS(K, V)                                                          \
	int (*sock_map_update)(void *, void *, u64);                                               \
	int (*sock_hash_update)(void *, void *, u64);                                              \
	long (*msg_redirect_map)(void *, u32, u64);                                                \
	long (*msg_redirect_hash)(void *, void *, u64);                                            \
	long (*sk_redirect_map)(void *, u32, u64);                                                 \
	long (*sk_redirect_hash)(void *, void *, u64);                                             \
	V *(*sk_storage_get)(void *, void *, u64);                                                 \
	long (*sk_storage_delete)(void *);                                                         \
	V *(*inode_storage_get)(void *, void *, u64);                                              \
	int (*inode_storage_delete)(void *);                                                       \
	V *(*task_storage_get)(void *, void *, u64);                                               \
	long (*task_storage_delete)(void *);                                                       \
	V *(*cgrp_storage_get)(void *, void *, u64);                                               \
	long (*cgrp_storage_delete)(void *);                                                       \
	V *(*get_local_storage)(u64);

#ifndef __TSBCC_ANALYZE__
/* Codegen mode: socket maps hold fds (no BTF key/value); storage maps need BTF types, no entries, no prealloc. */
#define __TSBCC_C_sockmap(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_SOCKMAP, K, V, n, max, fl, x)
#define __TSBCC_C_sockhash(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_SOCKHASH, K, V, n, max, fl, x)
#define __TSBCC_C_sk_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_SK_STORAGE, K, V, n, 0, (fl) | BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_inode_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_INODE_STORAGE, K, V, n, 0, (fl) | BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_task_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_TASK_STORAGE, K, V, n, 0, (fl) | BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_cgrp_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_CGRP_STORAGE, K, V, n, 0, (fl) | BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_cgroup_storage(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_CGROUP_STORAGE, K, V, n, 0, fl, x)
#define __TSBCC_C_percpu_cgroup_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, K, V, n, 0, fl, x)
#endif

#define BPF_SOCKMAP(n, max) __TSBCC_DECL(sockmap, int, u32, n, max, 0)
#define __TSBCC_SOCKHASH_1(n) __TSBCC_DECL(sockhash, u32, u32, n, 10240, 0)
#define __TSBCC_SOCKHASH_2(n, K) __TSBCC_DECL(sockhash, K, u32, n, 10240, 0)
#define __TSBCC_SOCKHASH_3(n, K, max) __TSBCC_DECL(sockhash, K, u32, n, max, 0)
#define BPF_SOCKHASH(...) __TSBCC_BY_NARG(__TSBCC_SOCKHASH_, __VA_ARGS__)
#define BPF_SK_STORAGE(n, V) __TSBCC_DECL(sk_storage, int, V, n, 0, 0)
#define BPF_INODE_STORAGE(n, V) __TSBCC_DECL(inode_storage, int, V, n, 0, 0)
#define BPF_TASK_STORAGE(n, V) __TSBCC_DECL(task_storage, int, V, n, 0, 0)
#define BPF_CGRP_STORAGE(n, V) __TSBCC_DECL(cgrp_storage, int, V, n, 0, 0)
#define BPF_CGROUP_STORAGE(n, V) __TSBCC_DECL(cgroup_storage, struct bpf_cgroup_storage_key, V, n, 0, 0)
#define BPF_PERCPU_CGROUP_STORAGE(n, V) __TSBCC_DECL(percpu_cgroup_storage, struct bpf_cgroup_storage_key, V, n, 0, 0)

#endif /* __TSBCC_NET_MAPS_H */
