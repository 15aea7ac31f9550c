/* tsbcc shim for <net/dst.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
