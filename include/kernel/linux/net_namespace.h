/* tsbcc shim for <linux/net_namespace.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
