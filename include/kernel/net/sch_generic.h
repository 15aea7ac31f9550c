/* tsbcc shim for <net/sch_generic.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
