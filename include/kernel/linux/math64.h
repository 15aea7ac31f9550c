/* tsbcc shim for <linux/math64.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
