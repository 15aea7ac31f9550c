/* tsbcc shim for <linux/mmap_lock.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
