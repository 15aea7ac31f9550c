/* tsbcc shim for <net/dst_ops.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
