/* tsbcc shim for <net/switchdev.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
