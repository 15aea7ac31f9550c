/* tsbcc shim for <net/netfilter/nf_conntrack.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
