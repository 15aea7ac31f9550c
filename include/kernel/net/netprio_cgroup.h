/* tsbcc shim for <net/netprio_cgroup.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
