/* tsbcc shim for <net/inet_common.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
