/* tsbcc shim for <linux/net_tstamp.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
