/* tsbcc shim for <linux/bug.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
