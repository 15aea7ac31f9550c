/* tsbcc shim for <uapi/linux/if_tunnel.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
