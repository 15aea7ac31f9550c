/* tsbcc shim for <linux/irq.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
