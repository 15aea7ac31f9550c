/* tsbcc shim for <net/dst_metadata.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
