/* tsbcc shim for <linux/srcu.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
