/* tsbcc shim for <linux/memory.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
