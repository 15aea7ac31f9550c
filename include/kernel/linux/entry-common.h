/* tsbcc shim for <linux/entry-common.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
