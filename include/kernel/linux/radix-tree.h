/* tsbcc shim for <linux/radix-tree.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
