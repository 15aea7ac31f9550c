/* tsbcc shim for <linux/netfilter_ipv4.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
