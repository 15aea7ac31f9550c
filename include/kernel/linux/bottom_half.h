/* tsbcc shim for <linux/bottom_half.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
