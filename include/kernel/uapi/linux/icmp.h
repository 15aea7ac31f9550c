/* tsbcc shim for <uapi/linux/icmp.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
