/* tsbcc: the kernel's 64-bit division helpers (<linux/math64.h>, <asm/div64.h>) for BPF programs.
 *
 * In the kernel these exist because 32-bit machines have no 64-by-64 division instruction; BPF has one,
 * so every helper is the plain C division it stands for. Semantics follow the kernel's documentation:
 * div_u64 divides by a 32-bit divisor, the *_rem forms store the remainder through a pointer, do_div()
 * divides its first argument in place and evaluates to the remainder. Signed forms truncate toward zero
 * with a remainder of the dividend's sign, as C does; they divide magnitudes without sign, because BPF
 * before its v4 instruction set (and clang before 18) has no signed division. All are always_inline: a BPF
 * program has no calls to library code. do_div is a macro because it assigns its argument. */
#ifndef __TSBCC_MATH64_H
#define __TSBCC_MATH64_H

#define __TSBCC_INLINE static inline __attribute__((always_inline))

#ifndef div_u64
__TSBCC_INLINE unsigned long long div_u64_rem(unsigned long long dividend, unsigned int divisor, unsigned int *remainder)
{
	*remainder = (unsigned int)(dividend % divisor);
	return dividend / divisor;
}
/* Signed quotient and remainder from the magnitudes: q = sign(a)*sign(b)*(|a|/|b|), r = sign(a)*(|a|%|b|). */
__TSBCC_INLINE long long __tsbcc_sdiv64(long long a, long long b, long long *rem)
{
	unsigned long long ua = a < 0 ? -(unsigned long long)a : (unsigned long long)a;
	unsigned long long ub = b < 0 ? -(unsigned long long)b : (unsigned long long)b;
	unsigned long long q = ua / ub, r = ua % ub;
	*rem = a < 0 ? -(long long)r : (long long)r;
	return (a < 0) != (b < 0) ? -(long long)q : (long long)q;
}
__TSBCC_INLINE long long div_s64_rem(long long dividend, int divisor, int *remainder)
{
	long long r;
	long long q = __tsbcc_sdiv64(dividend, divisor, &r);
	*remainder = (int)r;
	return q;
}
__TSBCC_INLINE unsigned long long div64_u64_rem(unsigned long long dividend, unsigned long long divisor,
						  unsigned long long *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}
__TSBCC_INLINE unsigned long long div_u64(unsigned long long dividend, unsigned int divisor)
{
	return dividend / divisor;
}
__TSBCC_INLINE long long div_s64(long long dividend, int divisor)
{
	long long r;
	return __tsbcc_sdiv64(dividend, divisor, &r);
}
__TSBCC_INLINE unsigned long long div64_u64(unsigned long long dividend, unsigned long long divisor)
{
	return dividend / divisor;
}
__TSBCC_INLINE long long div64_s64(long long dividend, long long divisor)
{
	long long r;
	return __tsbcc_sdiv64(dividend, divisor, &r);
}
/* Full 64-bit product of two 32-bit values. */
__TSBCC_INLINE unsigned long long mul_u32_u32(unsigned int a, unsigned int b)
{
	return (unsigned long long)a * b;
}
/* (a * mul) >> shift of the full 96-bit product: a split into 32-bit halves, hi = a_hi * mul, lo = a_lo * mul. */
__TSBCC_INLINE unsigned long long mul_u64_u32_shr(unsigned long long a, unsigned int mul, unsigned int shift)
{
	unsigned long long lo = mul_u32_u32((unsigned int)a, mul);
	unsigned long long hi = mul_u32_u32((unsigned int)(a >> 32), mul);
	if (shift == 0)
		return lo + (hi << 32);
	if (shift < 32)
		return (lo >> shift) + (hi << (32 - shift));
	/* The low 32 bits of lo cannot carry into bit 32 and above of the shifted sum. */
	return (hi + (lo >> 32)) >> (shift - 32);
}
#define div_u64 div_u64
#endif

/* do_div(n, base): n becomes n / base (n must be an unsigned 64-bit lvalue); the value is n % base. */
#ifndef do_div
#define do_div(n, base)                                                              \
	({                                                                           \
		unsigned int __tsbcc_base = (base);                                  \
		unsigned int __tsbcc_rem = (unsigned int)((n) % __tsbcc_base);       \
		(n) = (n) / __tsbcc_base;                                            \
		__tsbcc_rem;                                                         \
	})
#endif

#ifndef DIV64_U64_ROUND_UP
#define DIV64_U64_ROUND_UP(ll, d) ({ unsigned long long __tsbcc_d = (d); div64_u64((ll) + __tsbcc_d - 1, __tsbcc_d); })
#endif
#ifndef DIV64_U64_ROUND_CLOSEST
#define DIV64_U64_ROUND_CLOSEST(dividend, divisor) \
	({ unsigned long long __tsbcc_d = (divisor); div64_u64((dividend) + __tsbcc_d / 2, __tsbcc_d); })
#endif
#ifndef DIV_ROUND_UP_ULL
#define DIV_ROUND_UP_ULL(ll, d) div_u64((ll) + (d) - 1, (d))
#endif
#ifndef DIV_ROUND_CLOSEST
#define DIV_ROUND_CLOSEST(x, d) (((x) + ((d) / 2)) / (d))
#endif
#ifndef roundup
#define roundup(x, y) ((((x) + ((y) - 1)) / (y)) * (y))
#endif
#ifndef rounddown
#define rounddown(x, y) ((x) - ((x) % (y)))
#endif
/* round_up/round_down: y is a power of two. */
#ifndef round_up
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#endif
#ifndef round_down
#define round_down(x, y) ((x) & ~((__typeof__(x))((y) - 1)))
#endif
#ifndef abs
#define abs(x) ({ __typeof__(x) __tsbcc_x = (x); __tsbcc_x < 0 ? -__tsbcc_x : __tsbcc_x; })
#endif

#endif /* __TSBCC_MATH64_H */
