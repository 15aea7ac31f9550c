/* tsbcc shim for <linux/spinlock_types.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
