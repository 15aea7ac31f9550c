/* tsbcc shim for <linux/netfilter/x_tables.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
