/* tsbcc shim for <linux/backing-dev.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
