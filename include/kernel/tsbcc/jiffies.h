/* tsbcc: jiffies arithmetic of <linux/jiffies.h>. A jiffy is 1/HZ s; HZ is this kernel's CONFIG_HZ, read
 * from its build configuration into <tsbcc/kernel-config.h>. When the configuration cannot be read the
 * conversions are left undefined (a program using them fails to compile, naming the function) rather
 * than computed with a guessed HZ. The comparisons are wrap-safe (signed difference), as in the kernel. */
#ifndef __TSBCC_JIFFIES_H
#define __TSBCC_JIFFIES_H

#ifndef time_after
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) ((long)((a) - (b)) >= 0)
#define time_before_eq(a, b) time_after_eq(b, a)
#define time_after64(a, b) ((long long)((b) - (a)) < 0)
#define time_before64(a, b) time_after64(b, a)
#endif

#if defined(HZ) && !defined(jiffies_to_msecs)
static inline __attribute__((always_inline)) unsigned int jiffies_to_msecs(unsigned long j)
{
	return (unsigned int)((unsigned long long)j * 1000ULL / HZ);
}
static inline __attribute__((always_inline)) unsigned int jiffies_to_usecs(unsigned long j)
{
	return (unsigned int)((unsigned long long)j * 1000000ULL / HZ);
}
static inline __attribute__((always_inline)) unsigned long long jiffies_to_nsecs(unsigned long j)
{
	return (unsigned long long)j * (1000000000ULL / HZ);
}
static inline __attribute__((always_inline)) unsigned long long jiffies64_to_nsecs(unsigned long long j)
{
	return j * (1000000000ULL / HZ);
}
static inline __attribute__((always_inline)) unsigned long long jiffies64_to_msecs(unsigned long long j)
{
	return j * 1000ULL / HZ;
}
/* Rounded up, as the kernel's msecs_to_jiffies does for a non-constant argument. */
static inline __attribute__((always_inline)) unsigned long msecs_to_jiffies(unsigned int m)
{
	return (unsigned long)(((unsigned long long)m * HZ + 999ULL) / 1000ULL);
}
static inline __attribute__((always_inline)) unsigned long usecs_to_jiffies(unsigned int u)
{
	return (unsigned long)(((unsigned long long)u * HZ + 999999ULL) / 1000000ULL);
}
static inline __attribute__((always_inline)) unsigned long nsecs_to_jiffies(unsigned long long n)
{
	return (unsigned long)(n / (1000000000ULL / HZ));
}
#define jiffies_to_msecs jiffies_to_msecs
#endif

#endif /* __TSBCC_JIFFIES_H */
