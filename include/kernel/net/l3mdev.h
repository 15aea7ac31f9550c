/* tsbcc shim for <net/l3mdev.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
