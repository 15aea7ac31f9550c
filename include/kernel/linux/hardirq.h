/* tsbcc shim for <linux/hardirq.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
