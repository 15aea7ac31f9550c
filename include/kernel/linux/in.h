/* tsbcc shim for <linux/in.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
