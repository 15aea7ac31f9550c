/* tsbcc shim for <net/inet6_hashtables.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
