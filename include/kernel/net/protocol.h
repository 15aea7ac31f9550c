/* tsbcc shim for <net/protocol.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
