/* tsbcc shim for <linux/mm_inline.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
