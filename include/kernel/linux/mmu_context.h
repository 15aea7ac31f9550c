/* tsbcc shim for <linux/mmu_context.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
