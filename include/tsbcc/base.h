/* tsbcc: mode-independent declarations (libbpf's helpers and BCC's inline utilities), built into the tsbcc_base clang module together with the kernel's
 * vmlinux.h (see src/dialect/clang.ts). libbpf declares bpf_trace_printk(fmt, fmt_size, ...); BCC programs call
 * bpf_trace_printk(fmt, ...), which the rewriter turns into a call of the libbpf helper under a private name.
 * The rename below keeps the BCC spelling free for dialect.h. */
#ifndef __TSBCC_LIBBPF_H
#define __TSBCC_LIBBPF_H
#define bpf_trace_printk __tsbcc_libbpf_trace_printk
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#undef bpf_trace_printk

/* ---------------------------------------------------------------- BCC inline helpers */
#define lock_xadd(ptr, val) ((void)__sync_fetch_and_add(ptr, val))

/* floor(log2(v)) for v > 0, 0 for v == 0, without loops (the verifier of old kernels rejects loops). */
static inline __attribute__((always_inline)) unsigned int bpf_log2(unsigned int v)
{
	unsigned int r, shift;
	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* BCC's histogram slot: 1 + floor(log2(v)), and 1 for v == 0 (slot i holds [2^(i-1), 2^i - 1]). */
static inline __attribute__((always_inline)) unsigned int bpf_log2l(unsigned long v)
{
	unsigned int hi = v >> 32;
	if (hi)
		return bpf_log2(hi) + 32 + 1;
	return bpf_log2((unsigned int)v) + 1;
}

#ifndef bpf_ntohll
#define bpf_ntohll(x) __builtin_bswap64(x)
#endif
#ifndef bpf_htonll
#define bpf_htonll(x) __builtin_bswap64(x)
#endif
static inline __attribute__((always_inline)) unsigned __int128 bpf_ntoh128(unsigned __int128 v)
{
	return ((unsigned __int128)__builtin_bswap64((unsigned long long)v) << 64) |
	       __builtin_bswap64((unsigned long long)(v >> 64));
}
#define bpf_hton128(x) bpf_ntoh128(x)

/* BCC's socket-filter byte loads (LD_ABS through LLVM intrinsics). */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/* BCC spelling of printk; every call is rewritten (format on the stack + libbpf's helper). */
int bpf_trace_printk(const char *fmt, ...);
/* Rewritten to the number of online CPUs. */
int bpf_num_cpus(void);

/* ---------------------------------------------------------------- C library names BCC programs use unqualified
 * Declared with their standard signatures, clang knows them as its builtins: with a constant size the BPF
 * backend expands memset/memcpy/memmove into plain stores (a BPF program cannot call a library). memcmp
 * has no such expansion, so it is an always_inline byte loop (unrolled for a constant size). With real
 * kernel headers (__KERNEL__) <linux/string.h> declares them: nothing here then. */
#ifndef __KERNEL__
void *memset(void *dst, int c, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);
void *memmove(void *dst, const void *src, unsigned long n);
static inline __attribute__((always_inline)) int __tsbcc_memcmp(const void *a, const void *b, unsigned long n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	for (unsigned long i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}
#define memcmp(a, b, n) __tsbcc_memcmp(a, b, n)
#define __builtin_memcmp(a, b, n) __tsbcc_memcmp(a, b, n)
#endif

/* ---------------------------------------------------------------- BCC helper-header names
 * CUR_CPU_IDENTIFIER: "this CPU's slot" for perf event arrays (perf_read, perf_submit). */
#define CUR_CPU_IDENTIFIER BPF_F_CURRENT_CPU
/* BCC annotated key/value types for BTF; tsbcc's maps carry them in their definition already. */
#define BPF_ANNOTATE_KV_PAIR(name, type_key, type_val)
#define BPF_ANNOTATE_KV_PAIR_QUEUESTACK(name, type_val)
/* Checksum updates of a packet field changed from `from` to `to` (off: the field's packet offset). The
 * rewriter passes the program's context (its function's first parameter) and the width of `to`:
 * incr_cksum_l3(off, from, to); incr_cksum_l4(off, from, to, pseudo_header). */
int incr_cksum_l3(); /* unprototyped: any offset, pointer or integer, type-checks */
int incr_cksum_l4();
/* The same as calls with an explicit context and flags (BCC's spelling of the helpers). */
#define bpf_l3_csum_replace_(ctx, off, from, to, flags) bpf_l3_csum_replace(ctx, off, from, to, flags)
#define bpf_l4_csum_replace_(ctx, off, from, to, flags) bpf_l4_csum_replace(ctx, off, from, to, flags)
/* Eight bytes at a packet offset, in host order (two LD_ABS word loads). */
#define load_dword(skb, off) ((load_word(skb, off) << 32) | load_word(skb, (off) + 4))
/* Packet stores in network byte order (bpf_skb_store_bytes), the inverse of load_byte/half/word. */
static inline __attribute__((always_inline)) void bpf_store_byte(void *skb, unsigned long long off, unsigned long long val)
{
	unsigned char v = (unsigned char)val;
	bpf_skb_store_bytes(skb, off, &v, sizeof(v), 0);
}
static inline __attribute__((always_inline)) void bpf_store_half(void *skb, unsigned long long off, unsigned long long val)
{
	unsigned short v = __builtin_bswap16((unsigned short)val);
	bpf_skb_store_bytes(skb, off, &v, sizeof(v), 0);
}
static inline __attribute__((always_inline)) void bpf_store_word(void *skb, unsigned long long off, unsigned long long val)
{
	unsigned int v = __builtin_bswap32((unsigned int)val);
	bpf_skb_store_bytes(skb, off, &v, sizeof(v), 0);
}
/* Bit fields of packet headers: `bsz` bits starting `bofs` bits into the byte at `off` (bofs counted from
 * the most significant bit, as headers are drawn), extracted from or inserted into the smallest big-endian
 * load unit (8, 16, 32 or 64 bits) that holds them. */
static inline __attribute__((always_inline)) unsigned long long
bpf_dext_pkt(void *pkt, unsigned long long off, unsigned long long bofs, unsigned long long bsz)
{
	unsigned long long mask = bsz >= 64 ? ~0ULL : (1ULL << bsz) - 1;
	if (bofs + bsz <= 8)
		return (load_byte(pkt, off) >> (8 - bofs - bsz)) & mask;
	if (bofs + bsz <= 16)
		return (load_half(pkt, off) >> (16 - bofs - bsz)) & mask;
	if (bofs + bsz <= 32)
		return (load_word(pkt, off) >> (32 - bofs - bsz)) & mask;
	return (load_dword(pkt, off) >> (64 - bofs - bsz)) & mask;
}
static inline __attribute__((always_inline)) void
bpf_dins_pkt(void *pkt, unsigned long long off, unsigned long long bofs, unsigned long long bsz, unsigned long long val)
{
	unsigned long long mask = bsz >= 64 ? ~0ULL : (1ULL << bsz) - 1;
	unsigned int unit = bofs + bsz <= 8 ? 8 : bofs + bsz <= 16 ? 16 : bofs + bsz <= 32 ? 32 : 64;
	unsigned long long shift = unit - bofs - bsz;
	unsigned long long old = unit == 8 ? load_byte(pkt, off) : unit == 16 ? load_half(pkt, off) :
				 unit == 32 ? load_word(pkt, off) : load_dword(pkt, off);
	unsigned long long v = (old & ~(mask << shift)) | ((val & mask) << shift);
	if (unit == 8)
		bpf_store_byte(pkt, off, v);
	else if (unit == 16)
		bpf_store_half(pkt, off, v);
	else if (unit == 32)
		bpf_store_word(pkt, off, v);
	else {
		bpf_store_word(pkt, off, v >> 32);
		bpf_store_word(pkt, off + 4, v);
	}
}
/* Kernel source macros BCC's header neutralises for clang. */
#ifndef asm_inline
#define asm_inline asm
#endif
#if defined(__TARGET_ARCH_x86)
#define bpf_target_x86
#define bpf_target_defined
#elif defined(__TARGET_ARCH_arm64)
#define bpf_target_arm64
#define bpf_target_defined
#endif

/* ---------------------------------------------------------------- stack traces */
#ifndef BPF_MAX_STACK_DEPTH
#define BPF_MAX_STACK_DEPTH 127
#endif
struct bpf_stacktrace {
	u64 ip[BPF_MAX_STACK_DEPTH];
};
struct bpf_stacktrace_buildid {
	struct bpf_stack_build_id trace[BPF_MAX_STACK_DEPTH];
};

#endif
