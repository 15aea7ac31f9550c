/* tsbcc shim for <net/transp_v6.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
