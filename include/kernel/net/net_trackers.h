/* tsbcc shim for <net/net_trackers.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
