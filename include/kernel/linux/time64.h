/* tsbcc shim for <linux/time64.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
