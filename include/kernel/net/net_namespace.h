/* tsbcc shim for <net/net_namespace.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
