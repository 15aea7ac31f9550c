/* tsbcc shim for <net/ipv6_frag.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
