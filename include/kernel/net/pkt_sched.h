/* tsbcc shim for <net/pkt_sched.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
