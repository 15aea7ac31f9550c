/* tsbcc shim for <linux/netfilter_ipv6.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
