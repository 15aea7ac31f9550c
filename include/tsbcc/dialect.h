/* tsbcc dialect header: force-included (-include) before every BCC-dialect program.
 *
 * Two modes (docs/DIALECT.md):
 *   __TSBCC_ANALYZE__  map macros declare a struct with `key`, `leaf` and method members so that
 *                      `counts.lookup(&k)` type-checks; the rewriter reads clang's AST of that run.
 *   __TSBCC_CODEGEN__  map macros declare libbpf BTF-defined maps in section ".maps"; the rewriter has already
 *                      replaced every method call by a helper call on `&map`.
 * Kernel types come from the tsbcc_base clang module (vmlinux.h + libbpf.h) or, with real kernel headers,
 * from a textual include chain. */
#ifndef __TSBCC_DIALECT_H
#define __TSBCC_DIALECT_H

#if !defined(__TSBCC_ANALYZE__) && !defined(__TSBCC_CODEGEN__)
#error "tsbcc/dialect.h needs -D__TSBCC_ANALYZE__ or -D__TSBCC_CODEGEN__"
#endif
#if defined(BPF_LICENSE)
#error BPF_LICENSE cannot be specified through cflags
#endif

#ifdef __TSBCC_MODULES__
#pragma clang module import tsbcc_base
#else
#include <linux/kconfig.h>
#include <linux/types.h>
#include <uapi/linux/bpf.h>
#include <linux/ptrace.h>
#include <tsbcc/base.h>
#endif

/* Kernel source annotations that BTF does not carry. */
#ifndef __user
#define __user
#endif
#ifndef __kernel
#define __kernel
#endif
#ifndef __force
#define __force
#endif
#ifndef __iomem
#define __iomem
#endif
#ifndef __rcu
#define __rcu
#endif
#ifndef __percpu
#define __percpu
#endif

/* ---------------------------------------------------------------- small utilities */
#define __TSBCC_CAT_(a, b) a##b
#define __TSBCC_CAT(a, b) __TSBCC_CAT_(a, b)
#define __TSBCC_STR_(x) #x
#define __TSBCC_STR(x) __TSBCC_STR_(x)
#define __TSBCC_NARG(...) __TSBCC_NARG_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __TSBCC_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
/* Dispatch on the number of macro arguments: __TSBCC_BY_NARG(F_, a, b) -> F_2(a, b). */
#define __TSBCC_BY_NARG(prefix, ...) __TSBCC_CAT(prefix, __TSBCC_NARG(__VA_ARGS__))(__VA_ARGS__)

#ifndef BCC_SEC
#define BCC_SEC(name) __attribute__((section(name), used))
#endif

/* ---------------------------------------------------------------- x86-64 registers */
#define PT_REGS_PARM1(ctx) ((ctx)->di)
#define PT_REGS_PARM2(ctx) ((ctx)->si)
#define PT_REGS_PARM3(ctx) ((ctx)->dx)
#define PT_REGS_PARM4(ctx) ((ctx)->cx)
#define PT_REGS_PARM5(ctx) ((ctx)->r8)
#define PT_REGS_PARM6(ctx) ((ctx)->r9)
#define PT_REGS_RET(ctx) ((ctx)->sp)
#define PT_REGS_FP(ctx) ((ctx)->bp)
#define PT_REGS_RC(ctx) ((ctx)->ax)
#define PT_REGS_SP(ctx) ((ctx)->sp)
#define PT_REGS_IP(ctx) ((ctx)->ip)
/* Syscall wrappers (x86-64 since 4.17) receive the user registers as a struct pt_regs * in di; the fourth
 * syscall argument travels in r10. These read through that pointer, so they are probe reads. */
#define PT_REGS_SYSCALL_CTX(ctx) ((struct pt_regs *)PT_REGS_PARM1(ctx))
#define __TSBCC_SYSCALL_REG(ctx, reg) \
	({ unsigned long __v = 0; bpf_probe_read_kernel(&__v, sizeof(__v), &PT_REGS_SYSCALL_CTX(ctx)->reg); __v; })
#define PT_REGS_PARM1_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, di)
#define PT_REGS_PARM2_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, si)
#define PT_REGS_PARM3_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, dx)
#define PT_REGS_PARM4_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, r10)
#define PT_REGS_PARM5_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, r8)
#define PT_REGS_PARM6_SYSCALL(ctx) __TSBCC_SYSCALL_REG(ctx, r9)

/* ---------------------------------------------------------------- tracepoint __data_loc fields */
#define TP_DATA_LOC_READ_CONST(dst, field, length)                                        \
	do {                                                                                  \
		unsigned short __offset = args->data_loc_##field & 0xFFFF;                        \
		bpf_probe_read_kernel((void *)dst, length, (char *)args + __offset);              \
	} while (0)
#define TP_DATA_LOC_READ(dst, field)                                                      \
	do {                                                                                  \
		unsigned short __offset = args->data_loc_##field & 0xFFFF;                        \
		unsigned short __length = args->data_loc_##field >> 16;                           \
		bpf_probe_read_kernel((void *)dst, __length, (char *)args + __offset);            \
	} while (0)
#define TP_DATA_LOC_READ_STR(dst, field, length)                                          \
	do {                                                                                  \
		unsigned short __offset = args->data_loc_##field & 0xFFFF;                        \
		bpf_probe_read_kernel_str((void *)dst, length, (char *)args + __offset);          \
	} while (0)

/* ---------------------------------------------------------------- program kinds */
#define TRACEPOINT_PROBE(category, event) \
	int tracepoint__##category##__##event(struct tracepoint__##category##__##event *args)
#define RAW_TRACEPOINT_PROBE(event) int raw_tracepoint__##event(struct bpf_raw_tracepoint_args *ctx)
#define BPF_ITER(target) int bpf_iter__##target(struct bpf_iter__##target *ctx)

/* BTF-typed programs (fentry/fexit/fmod_ret/lsm): the kernel passes an array of u64 arguments; the user body
 * runs in a static inline function that receives them with their declared types. */
#define __TSBCC_CTX_ARGS_0() ctx
#define __TSBCC_CTX_ARGS_1(a) ctx, (void *)ctx[0]
#define __TSBCC_CTX_ARGS_2(a, b) __TSBCC_CTX_ARGS_1(a), (void *)ctx[1]
#define __TSBCC_CTX_ARGS_3(a, b, c) __TSBCC_CTX_ARGS_2(a, b), (void *)ctx[2]
#define __TSBCC_CTX_ARGS_4(a, b, c, d) __TSBCC_CTX_ARGS_3(a, b, c), (void *)ctx[3]
#define __TSBCC_CTX_ARGS_5(a, b, c, d, e) __TSBCC_CTX_ARGS_4(a, b, c, d), (void *)ctx[4]
#define __TSBCC_CTX_ARGS_6(a, b, c, d, e, f) __TSBCC_CTX_ARGS_5(a, b, c, d, e), (void *)ctx[5]
#define __TSBCC_CTX_ARGS_7(a, b, c, d, e, f, g) __TSBCC_CTX_ARGS_6(a, b, c, d, e, f), (void *)ctx[6]
#define __TSBCC_CTX_ARGS_8(a, b, c, d, e, f, g, h) __TSBCC_CTX_ARGS_7(a, b, c, d, e, f, g), (void *)ctx[7]
#define __TSBCC_CTX_ARGS_9(a, b, c, d, e, f, g, h, i) __TSBCC_CTX_ARGS_8(a, b, c, d, e, f, g, h), (void *)ctx[8]
#define __TSBCC_CTX_ARGS_10(a, b, c, d, e, f, g, h, i, j) \
	__TSBCC_CTX_ARGS_9(a, b, c, d, e, f, g, h, i), (void *)ctx[9]
#define __TSBCC_CTX_ARGS_11(a, b, c, d, e, f, g, h, i, j, k) \
	__TSBCC_CTX_ARGS_10(a, b, c, d, e, f, g, h, i, j), (void *)ctx[10]
#define __TSBCC_CTX_ARGS_12(a, b, c, d, e, f, g, h, i, j, k, l) \
	__TSBCC_CTX_ARGS_11(a, b, c, d, e, f, g, h, i, j, k), (void *)ctx[11]
/* Counts 0..12 arguments (GNU `, ##__VA_ARGS__` drops the comma of an empty list). */
#define __TSBCC_NARGZ(...) __TSBCC_NARGZ_(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __TSBCC_NARGZ_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define __TSBCC_CTX_ARGS(...) __TSBCC_CAT(__TSBCC_CTX_ARGS_, __TSBCC_NARGZ(__VA_ARGS__))(__VA_ARGS__)
#ifdef __TSBCC_CODEGEN__
#define __TSBCC_PROG_SEC(sec) __attribute__((section(sec), used))
#else
#define __TSBCC_PROG_SEC(sec)
#endif
/* The section is set here (the rewriter cannot insert an attribute in the middle of a macro expansion). */
#define __TSBCC_BTF_PROG(sec, name, ...)                                                      \
	static inline __attribute__((always_inline)) int ____##name(unsigned long long *ctx, ##__VA_ARGS__); \
	__TSBCC_PROG_SEC(sec) int name(unsigned long long *ctx)                                   \
	{                                                                                         \
		_Pragma("GCC diagnostic push")                                                        \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")                                \
		return ____##name(__TSBCC_CTX_ARGS(__VA_ARGS__));                                     \
		_Pragma("GCC diagnostic pop")                                                         \
	}                                                                                         \
	static inline __attribute__((always_inline)) int ____##name(unsigned long long *ctx, ##__VA_ARGS__)
#define KFUNC_PROBE(fn, ...) __TSBCC_BTF_PROG("fentry/" #fn, kfunc__vmlinux__##fn, ##__VA_ARGS__)
#define KRETFUNC_PROBE(fn, ...) __TSBCC_BTF_PROG("fexit/" #fn, kretfunc__vmlinux__##fn, ##__VA_ARGS__)
#define MODULE_KFUNC_PROBE(mod, fn, ...) __TSBCC_BTF_PROG("fentry/" #fn, kfunc__##mod##__##fn, ##__VA_ARGS__)
#define MODULE_KRETFUNC_PROBE(mod, fn, ...) __TSBCC_BTF_PROG("fexit/" #fn, kretfunc__##mod##__##fn, ##__VA_ARGS__)
#define KMOD_RET(fn, ...) __TSBCC_BTF_PROG("fmod_ret/" #fn, kmod_ret__##fn, ##__VA_ARGS__)
#define LSM_PROBE(hook, ...) __TSBCC_BTF_PROG("lsm/" #hook, lsm__##hook, ##__VA_ARGS__)

/* ---------------------------------------------------------------- maps
 * __TSBCC_DECL(kind, K, V, name, max, flags) is the one declaration path of the header's own macros; a user's
 * BPF_TABLE("kind", ...) has its string literal replaced by the bare kind by the rewriter before codegen. */
#ifdef __TSBCC_ANALYZE__

/* Analyze mode: a typed stand-in whose members give every method a C signature. `__kind` and `__pin`
 * (first members) carry the map kind and pin path to the rewriter through the initializer. */
#define __TSBCC_A_TABLE(kindstr, K, V, name, max, fl, pin, inner) \
	__TSBCC_A_TABLE_S(kindstr, K, V, name, max, fl, pin, inner, 0)
/* `share`: 0, "public" (BPF_TABLE_PUBLIC) or "shared" (BPF_TABLE_SHARED); "extern" tables are a kind. */
#define __TSBCC_A_TABLE_S(kindstr, K, V, name, max, fl, pin, inner, share)                     \
	struct __tsbcc_map_##name {                                                                \
		const char *__kind; const char *__pin; const char *__inner;                           \
		unsigned long long __max; unsigned long long __flags; const char *__share;            \
		K key; V leaf;                                                                         \
		V *(*lookup)(K *);                                                                     \
		V *(*lookup_or_init)(K *, V *);                                                        \
		V *(*lookup_or_try_init)(K *, V *);                                                    \
		int (*update)(K *, V *);                                                               \
		int (*insert)(K *, V *);                                                               \
		int (*delete)(K *);                                                                    \
		void (*increment)(K, ...);                                                             \
		void (*atomic_increment)(K, ...);                                                      \
		int (*get_stackid)(void *, u64);                                                       \
		void (*call)(void *, int);                                                             \
		int (*push)(V *, u64);                                                                 \
		int (*pop)(V *);                                                                       \
		int (*peek)(V *);                                                                      \
		long (*redirect_map)(int, int);                                                        \
		u64 (*perf_read)(int);                                                                 \
		int (*perf_counter_value)(int, void *, u32);                                           \
		int (*check_current_task)(int);                                                        \
		V *(*sk_storage_get)(void *, void *, u64);                                             \
		int (*sk_storage_delete)(void *);                                                      \
		V *(*inode_storage_get)(void *, void *, u64);                                          \
		int (*inode_storage_delete)(void *);                                                   \
		V *(*task_storage_get)(void *, void *, u64);                                           \
		int (*task_storage_delete)(void *);                                                    \
		V *(*cgrp_storage_get)(void *, void *, u64);                                           \
		long (*cgrp_storage_delete)(void *);                                                   \
		V *(*get_local_storage)(u64);                                                          \
		long (*sock_map_update)(void *, void *, u64);                                          \
		long (*sock_hash_update)(void *, void *, u64);                                         \
		long (*msg_redirect_map)(void *, u32, u64);                                            \
		long (*msg_redirect_hash)(void *, void *, u64);                                        \
		long (*sk_redirect_map)(void *, u32, u64);                                             \
		long (*sk_redirect_hash)(void *, void *, u64);                                         \
	} name = { kindstr, pin, inner, (max), (fl), share }

#define __TSBCC_A_OUTPUT(kindstr, name, max)                                                   \
	struct __tsbcc_map_##name {                                                                \
		const char *__kind; const char *__pin; const char *__inner;                           \
		unsigned long long __max; unsigned long long __flags; const char *__share;            \
		int key; u32 leaf;                                                                     \
		int (*perf_submit)(void *, void *, u32);                                               \
		int (*perf_submit_skb)(void *, u32, void *, u32);                                      \
		int (*ringbuf_output)(void *, u64, u64);                                               \
		void *(*ringbuf_reserve)(u64);                                                         \
		void (*ringbuf_submit)(void *, u64);                                                   \
		void (*ringbuf_discard)(void *, u64);                                                  \
		u64 (*ringbuf_query)(u64);                                                             \
	} name = { kindstr, 0, 0, (max), 0 }

#define __TSBCC_DECL(kind, K, V, name, max, fl) __TSBCC_A_TABLE(#kind, K, V, name, max, fl, 0, 0)
#define BPF_F_TABLE(type, K, V, name, max, fl) __TSBCC_A_TABLE(type, K, V, name, max, fl, 0, 0)
#define __TSBCC_PINNED_5(type, K, V, name, max) __TSBCC_PINNED_7(type, K, V, name, max, 0, 0)
#define __TSBCC_PINNED_6(type, K, V, name, max, path) __TSBCC_A_TABLE(type, K, V, name, max, 0, path, 0)
#define __TSBCC_PINNED_7(type, K, V, name, max, path, fl) __TSBCC_A_TABLE(type, K, V, name, max, fl, path, 0)
#define BPF_PERF_OUTPUT(name) __TSBCC_A_OUTPUT("perf_output", name, 0)
#define BPF_RINGBUF_OUTPUT(name, pages) __TSBCC_A_OUTPUT("ringbuf", name, (pages) * 4096)
#define BPF_ARRAY_OF_MAPS(name, inner, max) __TSBCC_A_TABLE("array_of_maps", int, int, name, max, 0, 0, inner)
#define __TSBCC_HOM_2(name, inner) __TSBCC_A_TABLE("hash_of_maps", int, int, name, 10240, 0, 0, inner)
#define __TSBCC_HOM_3(name, K, inner) __TSBCC_A_TABLE("hash_of_maps", K, int, name, 10240, 0, 0, inner)
#define __TSBCC_HOM_4(name, K, inner, max) __TSBCC_A_TABLE("hash_of_maps", K, int, name, max, 0, 0, inner)
#define __TSBCC_SHARED(type, K, V, name, max, fl, share) __TSBCC_A_TABLE_S(type, K, V, name, max, fl, 0, 0, share)
#define __TSBCC_XSK_PINNED(n, max, path) __TSBCC_A_TABLE("xskmap", int, int, n, max, 0, path, 0)

#else /* __TSBCC_CODEGEN__ */

/* Codegen mode: libbpf BTF-defined maps. `__tsbcc_key_<name>` / `__tsbcc_leaf_<name>` name the key and value
 * types for the rewriter's generated code. Map types whose kernel implementation rejects BTF key/value ids get
 * key_size/value_size instead of __type(). */
#define __TSBCC_TYPES(K, V, name) typedef K __tsbcc_key_##name; typedef V __tsbcc_leaf_##name
#define __TSBCC_BTF_MAP(T, K, V, name, max, fl, extra)                                         \
	__TSBCC_TYPES(K, V, name);                                                                 \
	struct {                                                                                   \
		__uint(type, T); __type(key, K); __type(value, V);                                    \
		__uint(max_entries, max); __uint(map_flags, fl); extra                                \
	} name SEC(".maps")
#define __TSBCC_SIZE_MAP(T, K, V, name, max, fl, extra)                                        \
	__TSBCC_TYPES(K, V, name);                                                                 \
	struct {                                                                                   \
		__uint(type, T); __uint(key_size, sizeof(K)); __uint(value_size, sizeof(V));          \
		__uint(max_entries, max); __uint(map_flags, fl); extra                                \
	} name SEC(".maps")
#define __TSBCC_VALUE_MAP(T, V, name, max, fl, extra)                                          \
	__TSBCC_TYPES(int, V, name);                                                               \
	struct {                                                                                   \
		__uint(type, T); __uint(value_size, sizeof(V));                                        \
		__uint(max_entries, max); __uint(map_flags, fl); extra                                \
	} name SEC(".maps")

#define __TSBCC_C_hash(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_HASH, K, V, n, max, fl, x)
#define __TSBCC_C_array(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_ARRAY, K, V, n, max, fl, x)
#define __TSBCC_C_percpu_hash(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_PERCPU_HASH, K, V, n, max, fl, x)
#define __TSBCC_C_percpu_array(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, K, V, n, max, fl, x)
#define __TSBCC_C_lru_hash(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_LRU_HASH, K, V, n, max, fl, x)
#define __TSBCC_C_lru_percpu_hash(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_LRU_PERCPU_HASH, K, V, n, max, fl, x)
#define __TSBCC_C_lpm_trie(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_LPM_TRIE, K, V, n, max, (fl) | BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_histogram(K, V, n, max, fl, x)                                                \
	__TSBCC_BTF_MAP((__builtin_types_compatible_p(K, int) ? BPF_MAP_TYPE_ARRAY : BPF_MAP_TYPE_HASH), \
			K, V, n, max, fl, x)
#define __TSBCC_C_stacktrace(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_STACK_TRACE, K, V, n, max, fl, x)
#define __TSBCC_C_prog(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_PROG_ARRAY, K, V, n, max, fl, x)
#define __TSBCC_C_perf_array(K, V, n, max, fl, x) \
	__TSBCC_SIZE_MAP(BPF_MAP_TYPE_PERF_EVENT_ARRAY, K, V, n, max, fl, x)
#define __TSBCC_C_cgroup_array(K, V, n, max, fl, x) \
	__TSBCC_SIZE_MAP(BPF_MAP_TYPE_CGROUP_ARRAY, K, V, n, max, fl, x)
#define __TSBCC_C_devmap(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_DEVMAP, K, V, n, max, fl, x)
#define __TSBCC_C_cpumap(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_CPUMAP, K, V, n, max, fl, x)
#define __TSBCC_C_xskmap(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_XSKMAP, K, V, n, max, fl, x)
/* Local storage: no max_entries, BPF_F_NO_PREALLOC required by the kernel. */
#define __TSBCC_C_sk_storage(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_SK_STORAGE, int, V, n, 0, BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_inode_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_INODE_STORAGE, int, V, n, 0, BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_task_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_TASK_STORAGE, int, V, n, 0, BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_cgrp_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_CGRP_STORAGE, int, V, n, 0, BPF_F_NO_PREALLOC, x)
#define __TSBCC_C_cgroup_storage(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_CGROUP_STORAGE, K, V, n, 0, fl, x)
#define __TSBCC_C_percpu_cgroup_storage(K, V, n, max, fl, x) \
	__TSBCC_BTF_MAP(BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, K, V, n, 0, fl, x)
#define __TSBCC_C_sockmap(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_SOCKMAP, K, V, n, max, fl, x)
#define __TSBCC_C_sockhash(K, V, n, max, fl, x) __TSBCC_SIZE_MAP(BPF_MAP_TYPE_SOCKHASH, K, V, n, max, fl, x)
/* BPF_TABLE("extern", ...): a table another program declared BPF_TABLE_PUBLIC (or _SHARED). The object
 * holds a placeholder hash with the declared key and value; DialectMetadata.shared marks it "extern" so
 * the loader uses the public table's map instead of creating this one. */
#define __TSBCC_C_extern(K, V, n, max, fl, x) __TSBCC_BTF_MAP(BPF_MAP_TYPE_HASH, K, V, n, max, fl, x)
#define __TSBCC_C_queue(K, V, n, max, fl, x) __TSBCC_VALUE_MAP(BPF_MAP_TYPE_QUEUE, V, n, max, fl, x)
#define __TSBCC_C_stack(K, V, n, max, fl, x) __TSBCC_VALUE_MAP(BPF_MAP_TYPE_STACK, V, n, max, fl, x)

#define __TSBCC_DECL(kind, K, V, name, max, fl) __TSBCC_C_##kind(K, V, name, max, fl, )
#define BPF_F_TABLE(type, K, V, name, max, fl) __TSBCC_C_##type(K, V, name, max, fl, )
/* Pinned maps: libbpf-style pinning by name; the pin path itself travels in DialectMetadata.pinned. */
#define __TSBCC_PINNED_5(type, K, V, name, max) __TSBCC_C_##type(K, V, name, max, 0, )
#define __TSBCC_PINNED_6(type, K, V, name, max, path) __TSBCC_C_##type(K, V, name, max, 0, __uint(pinning, 1);)
#define __TSBCC_PINNED_7(type, K, V, name, max, path, fl) \
	__TSBCC_C_##type(K, V, name, max, fl, __uint(pinning, 1);)
/* Each perf output and ring buffer gets a hidden per-CPU drop counter: the rewriter counts failed perf_submit,
 * ringbuf_output and ringbuf_reserve calls in it, so the API knows every loss at once (the kernel tells a perf
 * reader of a loss only when that CPU's buffer is written again; BCC has no ring count at all). */
#define __TSBCC_DROPS(name)                                                                     \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, __u64);    \
		__uint(max_entries, 1);                                                                \
	} __tsbcc_drops_##name SEC(".maps")
#define BPF_PERF_OUTPUT(name)                                                                   \
	__TSBCC_TYPES(int, u32, name);                                                             \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);                                           \
		__uint(key_size, sizeof(int)); __uint(value_size, sizeof(u32));                        \
	} name SEC(".maps");                                                                       \
	__TSBCC_DROPS(name)
#define BPF_RINGBUF_OUTPUT(name, pages)                                                         \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, (pages) * 4096);               \
	} name SEC(".maps");                                                                       \
	__TSBCC_DROPS(name)
/* Maps of maps: the rewriter replaces the inner map's name literal by the inner map's identifier. */
#define BPF_ARRAY_OF_MAPS(name, inner, max)                                                     \
	__TSBCC_TYPES(int, void, name);                                                            \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(key_size, sizeof(int));              \
		__uint(max_entries, max); __array(values, typeof(inner));                              \
	} name SEC(".maps")
#define __TSBCC_HOM_4(name, K, inner, max)                                                      \
	__TSBCC_TYPES(K, void, name);                                                              \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __type(key, K);                              \
		__uint(max_entries, max); __array(values, typeof(inner));                              \
	} name SEC(".maps")
#define __TSBCC_HOM_2(name, inner) __TSBCC_HOM_4(name, int, inner, 10240)
#define __TSBCC_HOM_3(name, K, inner) __TSBCC_HOM_4(name, K, inner, 10240)
#define __TSBCC_SHARED(type, K, V, name, max, fl, share) __TSBCC_C_##type(K, V, name, max, fl, )
#define __TSBCC_XSK_PINNED(n, max, path) __TSBCC_C_xskmap(int, int, n, max, 0, __uint(pinning, 1);)

#endif /* __TSBCC_CODEGEN__ */

#define BPF_TABLE(type, K, V, name, max) BPF_F_TABLE(type, K, V, name, max, 0)
#define BPF_TABLE_PINNED(...) __TSBCC_BY_NARG(__TSBCC_PINNED_, __VA_ARGS__)
#define BPF_HASH_OF_MAPS(...) __TSBCC_BY_NARG(__TSBCC_HOM_, __VA_ARGS__)

#define __TSBCC_HASH_1(n) __TSBCC_DECL(hash, u64, u64, n, 10240, 0)
#define __TSBCC_HASH_2(n, K) __TSBCC_DECL(hash, K, u64, n, 10240, 0)
#define __TSBCC_HASH_3(n, K, V) __TSBCC_DECL(hash, K, V, n, 10240, 0)
#define __TSBCC_HASH_4(n, K, V, size) __TSBCC_DECL(hash, K, V, n, size, 0)
#define BPF_HASH(...) __TSBCC_BY_NARG(__TSBCC_HASH_, __VA_ARGS__)

#define __TSBCC_PCPU_HASH_1(n) __TSBCC_DECL(percpu_hash, u64, u64, n, 10240, 0)
#define __TSBCC_PCPU_HASH_2(n, K) __TSBCC_DECL(percpu_hash, K, u64, n, 10240, 0)
#define __TSBCC_PCPU_HASH_3(n, K, V) __TSBCC_DECL(percpu_hash, K, V, n, 10240, 0)
#define __TSBCC_PCPU_HASH_4(n, K, V, size) __TSBCC_DECL(percpu_hash, K, V, n, size, 0)
#define BPF_PERCPU_HASH(...) __TSBCC_BY_NARG(__TSBCC_PCPU_HASH_, __VA_ARGS__)

#define __TSBCC_ARRAY_1(n) __TSBCC_DECL(array, int, u64, n, 10240, 0)
#define __TSBCC_ARRAY_2(n, V) __TSBCC_DECL(array, int, V, n, 10240, 0)
#define __TSBCC_ARRAY_3(n, V, size) __TSBCC_DECL(array, int, V, n, size, 0)
#define BPF_ARRAY(...) __TSBCC_BY_NARG(__TSBCC_ARRAY_, __VA_ARGS__)

#define __TSBCC_PCPU_ARRAY_1(n) __TSBCC_DECL(percpu_array, int, u64, n, 10240, 0)
#define __TSBCC_PCPU_ARRAY_2(n, V) __TSBCC_DECL(percpu_array, int, V, n, 10240, 0)
#define __TSBCC_PCPU_ARRAY_3(n, V, size) __TSBCC_DECL(percpu_array, int, V, n, size, 0)
#define BPF_PERCPU_ARRAY(...) __TSBCC_BY_NARG(__TSBCC_PCPU_ARRAY_, __VA_ARGS__)

#define __TSBCC_HIST_1(n) __TSBCC_DECL(histogram, int, u64, n, 64, 0)
#define __TSBCC_HIST_2(n, K) __TSBCC_DECL(histogram, K, u64, n, 64, 0)
#define __TSBCC_HIST_3(n, K, size) __TSBCC_DECL(histogram, K, u64, n, size, 0)
#define BPF_HISTOGRAM(...) __TSBCC_BY_NARG(__TSBCC_HIST_, __VA_ARGS__)

#define __TSBCC_LPM_1(n) __TSBCC_DECL(lpm_trie, u64, u64, n, 10240, 0)
#define __TSBCC_LPM_2(n, K) __TSBCC_DECL(lpm_trie, K, u64, n, 10240, 0)
#define __TSBCC_LPM_3(n, K, V) __TSBCC_DECL(lpm_trie, K, V, n, 10240, 0)
#define __TSBCC_LPM_4(n, K, V, size) __TSBCC_DECL(lpm_trie, K, V, n, size, 0)
#define BPF_LPM_TRIE(...) __TSBCC_BY_NARG(__TSBCC_LPM_, __VA_ARGS__)

#define BPF_STACK_TRACE(n, max) __TSBCC_DECL(stacktrace, int, struct bpf_stacktrace, n, max, 0)
#define BPF_STACK_TRACE_BUILDID(n, max) \
	__TSBCC_DECL(stacktrace, int, struct bpf_stacktrace_buildid, n, max, BPF_F_STACK_BUILD_ID)
#define BPF_PROG_ARRAY(n, max) __TSBCC_DECL(prog, u32, u32, n, max, 0)
#define BPF_PERF_ARRAY(n, max) __TSBCC_DECL(perf_array, int, u32, n, max, 0)
#define BPF_CGROUP_ARRAY(n, max) __TSBCC_DECL(cgroup_array, int, u32, n, max, 0)
#define BPF_DEVMAP(n, max) __TSBCC_DECL(devmap, int, int, n, max, 0)
#define BPF_CPUMAP(n, max) __TSBCC_DECL(cpumap, u32, u32, n, max, 0)
#define __TSBCC_XSKMAP_2(n, max) __TSBCC_DECL(xskmap, int, int, n, max, 0)
#define __TSBCC_XSKMAP_3(n, max, path) __TSBCC_XSK_PINNED(n, max, path)
#define BPF_XSKMAP(...) __TSBCC_BY_NARG(__TSBCC_XSKMAP_, __VA_ARGS__)
#define __TSBCC_QUEUE_3(n, V, max) __TSBCC_DECL(queue, int, V, n, max, 0)
#define __TSBCC_QUEUE_4(n, V, max, fl) __TSBCC_DECL(queue, int, V, n, max, fl)
#define BPF_QUEUE(...) __TSBCC_BY_NARG(__TSBCC_QUEUE_, __VA_ARGS__)
#define __TSBCC_STACK_3(n, V, max) __TSBCC_DECL(stack, int, V, n, max, 0)
#define __TSBCC_STACK_4(n, V, max, fl) __TSBCC_DECL(stack, int, V, n, max, fl)
#define BPF_STACK(...) __TSBCC_BY_NARG(__TSBCC_STACK_, __VA_ARGS__)

/* Tables other programs of this process can use: BPF_TABLE_PUBLIC (by name, any program) and
 * BPF_TABLE_SHARED (same maps namespace), which another program names with BPF_TABLE("extern", ...). */
#define BPF_TABLE_PUBLIC(type, K, V, name, max) __TSBCC_SHARED(type, K, V, name, max, 0, "public")
#define __TSBCC_TSHARED_5(type, K, V, name, max) __TSBCC_SHARED(type, K, V, name, max, 0, "shared")
#define __TSBCC_TSHARED_6(type, K, V, name, max, fl) __TSBCC_SHARED(type, K, V, name, max, fl, "shared")
#define BPF_TABLE_SHARED(...) __TSBCC_BY_NARG(__TSBCC_TSHARED_, __VA_ARGS__)

/* Queues and stacks spelled with the kind (BCC's BPF_QUEUESTACK family). */
#define BPF_QUEUESTACK(type, V, name, max, fl) BPF_F_TABLE(type, int, V, name, max, fl)
#define BPF_QUEUESTACK_PINNED(type, V, name, max, fl, path) BPF_TABLE_PINNED(type, int, V, name, max, path, fl)
#define BPF_QUEUESTACK_PUBLIC(type, V, name, max, fl) __TSBCC_SHARED(type, int, V, name, max, fl, "public")
#define BPF_QUEUESTACK_SHARED(type, V, name, max, fl) __TSBCC_SHARED(type, int, V, name, max, fl, "shared")

/* Local storage, socket maps and cgroup storage. */
#define BPF_SK_STORAGE(n, V) __TSBCC_DECL(sk_storage, int, V, n, 0, BPF_F_NO_PREALLOC)
#define BPF_INODE_STORAGE(n, V) __TSBCC_DECL(inode_storage, int, V, n, 0, BPF_F_NO_PREALLOC)
#define BPF_TASK_STORAGE(n, V) __TSBCC_DECL(task_storage, int, V, n, 0, BPF_F_NO_PREALLOC)
#define BPF_CGRP_STORAGE(n, V) __TSBCC_DECL(cgrp_storage, int, V, n, 0, BPF_F_NO_PREALLOC)
#define BPF_CGROUP_STORAGE(n, V) __TSBCC_DECL(cgroup_storage, struct bpf_cgroup_storage_key, V, n, 0, 0)
#define BPF_PERCPU_CGROUP_STORAGE(n, V) __TSBCC_DECL(percpu_cgroup_storage, struct bpf_cgroup_storage_key, V, n, 0, 0)
#define BPF_SOCKMAP(n, max) __TSBCC_DECL(sockmap, u32, int, n, max, 0)
#define __TSBCC_SOCKHASH_1(n) __TSBCC_DECL(sockhash, u32, int, n, 10240, 0)
#define __TSBCC_SOCKHASH_2(n, K) __TSBCC_DECL(sockhash, K, int, n, 10240, 0)
#define __TSBCC_SOCKHASH_3(n, K, max) __TSBCC_DECL(sockhash, K, int, n, max, 0)
#define BPF_SOCKHASH(...) __TSBCC_BY_NARG(__TSBCC_SOCKHASH_, __VA_ARGS__)

#endif /* __TSBCC_DIALECT_H */
