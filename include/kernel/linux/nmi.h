/* tsbcc shim for <linux/nmi.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
