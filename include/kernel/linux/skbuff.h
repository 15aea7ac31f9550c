/* tsbcc shim for <linux/skbuff.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
