/* tsbcc shim for <linux/ns_common.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
