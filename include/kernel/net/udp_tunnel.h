/* tsbcc shim for <net/udp_tunnel.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
