/* tsbcc shim for <linux/log2.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
